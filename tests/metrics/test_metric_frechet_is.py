"""Closed-form checks of the Fréchet distance and the Inception Score."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from secgan.metrics.frechet import GaussianAccumulator, fid_from_features, frechet_distance, gaussian_stats
from secgan.metrics.inception_score import InceptionScoreAccumulator, bernoulli_probs, inception_score


@pytest.mark.parametrize("method", ["sqrtm", "eigh"])
def test_frechet_diagonal_closed_form(method):
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2), method=method)
    assert got == pytest.approx(expected, rel=1e-10)
    assert expected == pytest.approx(1 + 6.25 + (10 - 6) + (5 - 4) + 0, rel=1e-12)


@pytest.mark.parametrize("method", ["sqrtm", "eigh"])
def test_frechet_commuting_full_covariances(method):
    # Rotated diagonal covariances sharing eigenvectors: tr sqrt(S1 S2) = sum sqrt(l1 l2).
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    l1, l2 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 0.5, 3.0, 1.0])
    s1, s2 = q @ np.diag(l1) @ q.T, q @ np.diag(l2) @ q.T
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(l1 + l2 - 2 * np.sqrt(l1 * l2))
    assert frechet_distance(mu1, s1, mu2, s2, method=method) == pytest.approx(expected, rel=1e-8)


def test_frechet_symmetric_and_zero_for_same_gaussian():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 5))
    s = a @ a.T + np.eye(5)
    mu = rng.normal(size=5)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    b = rng.normal(size=(5, 5))
    s2 = b @ b.T + 0.1 * np.eye(5)
    assert frechet_distance(mu, s, mu + 1, s2) == pytest.approx(frechet_distance(mu + 1, s2, mu, s), rel=1e-7)


def test_frechet_singular_covariances_use_offset():
    # Rank-deficient covariances (fewer samples than dimensions) still give a finite, non-negative value.
    rng = np.random.default_rng(2)
    f1, f2 = rng.normal(size=(3, 8)), rng.normal(size=(3, 8)) + 0.5
    d = fid_from_features(f1, f2)
    assert np.isfinite(d) and d >= 0


def test_fid_of_set_against_itself_is_zero():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(500, 16)) * 3 + 10
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_shifted_set_is_squared_shift():
    rng = np.random.default_rng(4)
    f = rng.normal(size=(400, 6))
    assert fid_from_features(f, f + 2.0) == pytest.approx(6 * 4.0, rel=1e-6)


def test_accumulator_matches_numpy_in_batches():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(257, 7)) * rng.uniform(0.1, 5, size=7) + 1e3  # large mean, small spread
    acc = GaussianAccumulator()
    for s in range(0, len(f), 50):
        acc.update(torch.from_numpy(f[s : s + 50]))
    mu, sigma = acc.compute()
    np.testing.assert_allclose(mu, f.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(f, rowvar=False), rtol=1e-9, atol=1e-9)
    mu2, sigma2 = gaussian_stats(f)
    np.testing.assert_allclose(sigma2, sigma, rtol=1e-9)


def test_is_identical_predictions_is_one():
    p = torch.softmax(torch.randn(1, 10), 1).repeat(200, 1)
    mean, std = inception_score(p, splits=10)
    assert mean == pytest.approx(1.0, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("k", [2, 5, 10])
def test_is_balanced_one_hot_is_k(k):
    n = 10 * k * 3
    p = torch.nn.functional.one_hot(torch.arange(n) % k, k).double()  # each contiguous split is balanced
    mean, std = inception_score(p, splits=10)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_is_matches_direct_kl_formula():
    torch.manual_seed(0)
    p = torch.softmax(torch.randn(90, 6) * 2, 1).double()
    mean, _ = inception_score(p, splits=3)
    direct = []
    for part in p.chunk(3):
        py = part.mean(0, keepdim=True)
        kl = (part * (part.log() - py.log())).sum(1).mean()
        direct.append(float(torch.exp(kl)))
    assert mean == pytest.approx(float(np.mean(direct)), rel=1e-10)


def test_is_streaming_equals_batch_and_shuffled_splits_partition():
    torch.manual_seed(1)
    p = torch.softmax(torch.randn(103, 4), 1)
    acc = InceptionScoreAccumulator(103, splits=10, seed=7)
    for s in range(0, 103, 16):
        acc.update(p[s : s + 16])
    out = acc.compute()
    acc2 = InceptionScoreAccumulator(103, splits=10, seed=7)
    acc2.update(p)
    assert out["mean"] == pytest.approx(acc2.compute()["mean"], rel=1e-12)
    assert sorted(torch.bincount(acc.split_of).tolist()) == [10] * 7 + [11] * 3
    assert sum(torch.bincount(acc.split_of).tolist()) == 103
    with pytest.raises(ValueError):
        acc.update(p[:1])  # pool overflow


def test_is_incomplete_pool_raises():
    acc = InceptionScoreAccumulator(20, splits=2)
    acc.update(torch.full((5, 3), 1 / 3))
    with pytest.raises(ValueError, match="incomplete"):
        acc.compute()


def test_bernoulli_heads_is():
    # Attribute 0 confidently balanced (IS 2), attribute 1 constant (IS 1): the mean over heads is 1.5.
    p = torch.tensor([[1.0, 0.3], [0.0, 0.3]]).repeat(50, 1)
    mean, _ = inception_score(bernoulli_probs(p), splits=10)
    assert mean == pytest.approx(1.5, rel=1e-9)


def test_frechet_matches_eigenvalue_formula_for_random_psd():
    # tr sqrt(S1 S2) = sum sqrt(eig(S1^1/2 S2 S1^1/2)) for PSD S1, S2 (an independent computation).
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(30, 12)), rng.normal(size=(40, 12)) * 2
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    mu1, mu2 = a.mean(0), b.mean(0)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_covmean
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("n", [200, 5])  # full-rank and singular (fewer samples than dimensions)
def test_eigh_route_matches_sqrtm_route(n):
    from secgan.metrics.frechet import FrechetReference

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(n, 20)), rng.normal(size=(n + 3, 20)) * 1.5 + 0.2
    mu1, s1 = gaussian_stats(a)
    mu2, s2 = gaussian_stats(b)
    ref = FrechetReference(mu1, s1)
    d_eigh = ref.distance(mu2, s2)
    assert d_eigh == pytest.approx(frechet_distance(mu1, s1, mu2, s2, method="eigh"), rel=1e-12)
    tol = 1e-8 if n > 20 else 1e-3  # scipy's root of a singular product is only approximate
    assert d_eigh == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=tol)
    assert ref.distance(mu1, s1) == pytest.approx(0.0, abs=1e-8)
