"""The per-point network inversion on known pair offsets (engine only)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from geohazard.engine.timeseries.inversion import fit_trend, invert_network
from geohazard.engine.timeseries.network import pair_network

DATES = [dt.date(2024, 1, 1) + dt.timedelta(days=30 * k) for k in range(12)]


def observe(truth: np.ndarray, pairs, sigma: float, rng) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([truth[j] - truth[i] for i, j in pairs]) + rng.normal(
        0, sigma, (len(pairs), truth.shape[1])
    )


def test_weighted_solution_rejects_the_contradicting_pair() -> None:
    rng = np.random.default_rng(1)
    pairs = pair_network(DATES, 3)
    truth = np.cumsum(np.r_[0, rng.uniform(0, 2, 11)])[:, None] * np.ones((1, 2000))
    east, north = observe(truth, pairs, 0.1, rng), observe(0 * truth, pairs, 0.1, rng)
    sigma = np.full_like(east, 0.1)
    bad = pairs.index((4, 7))
    east[bad] += 3.0
    east[0, :50] = np.nan  # a pair without a measurement at some points
    inv = invert_network(DATES, pairs, east, north, sigma, sigma)
    share = inv.rejected.mean(axis=1)
    assert share[bad] > 0.99
    assert np.delete(share, bad).max() < 0.03
    err = inv.east - truth
    assert np.sqrt(np.mean(err**2)) < 0.1  # better than one pair's 0.1 m on average
    assert np.all(inv.east[0] == 0) and np.all(inv.sigma_east[0] == 0)
    # 1-sigma from the normal equations agrees with the errors (within 30%)
    ratio = np.sqrt(np.mean(err[1:] ** 2, axis=1)) / np.mean(inv.sigma_east[1:], axis=1)
    assert np.all((ratio > 0.7) & (ratio < 1.3)), ratio


def test_sigma_scaled_up_when_residuals_exceed_the_pairs_sigma() -> None:
    rng = np.random.default_rng(2)
    pairs = pair_network(DATES, 3)
    truth = np.zeros((12, 500))
    east = observe(truth, pairs, 0.3, rng)  # errors 3 times the sigma the pairs claim
    north = observe(truth, pairs, 0.3, rng)
    claimed = np.full_like(east, 0.1)
    inv = invert_network(DATES, pairs, east, north, claimed, claimed)
    err = np.sqrt(np.mean(inv.east[1:] ** 2))
    assert inv.rejected.mean() < 0.03  # the robust scale follows the larger scatter
    assert np.mean(inv.sigma_east[1:]) == pytest.approx(err, rel=0.3)


def test_gap_bridged_by_minimum_velocity_and_trend() -> None:
    pairs = [p for p in pair_network(DATES, 3) if not (p[0] <= 5 < p[1])]  # nothing spans 5-6
    rate = 0.5  # m per 30 days
    truth = rate * np.arange(12, dtype=float)[:, None] * np.ones((1, 10))
    east = np.array([truth[j] - truth[i] for i, j in pairs])
    sig = np.full_like(east, 0.05)
    inv = invert_network(DATES, pairs, east, east * 0, sig, sig)
    assert np.allclose(inv.east[:6], truth[:6], atol=1e-3)
    assert np.allclose(inv.east[6:] - inv.east[5], truth[6:] - truth[6], atol=1e-3)  # no jump
    trend = fit_trend(DATES, truth, np.full_like(truth, 0.05))
    assert np.allclose(trend.velocity, rate * 365.25 / 30, rtol=1e-6)
    assert np.allclose(trend.acceleration, 0, atol=1e-6)
