"""Auxiliary networks trained apart from SeCGAN: the frozen face parser P and the evaluation classifier."""
