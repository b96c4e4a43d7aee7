"""Datasets: real loaders (CelebA, CelebA-HQ, RaFD, custom folders), masks, transforms and the synthetic
face dataset."""
