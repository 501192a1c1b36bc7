"""Per-point inversion of a pair network into cumulative displacement at every date.

For each grid point and each axis (east, north) the unknowns are the cumulative displacements
x_1 .. x_{N-1} at dates 1 .. N-1 (x_0 = 0 at the first date). Each pair (i, j) observes
x_j - x_i with its 1-sigma s_ij from the tracker, weight 1 / s_ij^2. Solved by weighted least
squares, vectorised over points (one small normal-equation system per point, numpy batched):

- Minimum velocity (the SBAS approach, Berardino et al. 2002, IEEE TGRS; for offsets Casu et
  al. 2011, IEEE JSTARS): each interval k adds a weak equation x_{k+1} - x_k = 0 of weight
  (ALPHA / s_med)^2 (s_med the point's median pair 1-sigma, scaled by the interval's length
  against the median interval). Where pairs span an interval it changes the solution by about
  ALPHA^2 / (pairs spanning it), under 0.1%; where none does (a gap in the network) it bridges
  the gap with zero velocity instead of leaving the system singular.
- Robust reweighting: iteratively reweighted least squares with Tukey's biweight on each pair's
  normalised residual vector |(r_east, r_north)| / s, against TUKEY_C times the point's robust
  scale (its median normalised residual in the least-squares fit over that of a 2-D unit
  normal, at least 1, then kept): a pair
  that contradicts the others gets weight 0 (rejected) in both axes; the rest keep weights
  close to 1 / s^2.
- 1-sigma per date: sqrt of the diagonal of the inverse normal matrix, times the a-posteriori
  variance factor (weighted residuals squared over the redundancy, at least 1, so residuals
  larger than the pairs' 1-sigma widen it, smaller ones never narrow it).
- The network residual per point: the RMS of the kept pairs' residual vectors (m).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.03
TUKEY_C = 4.685  # Tukey's constant of 95% efficiency under normal errors
ITERATIONS = 8
CHI2_MEDIAN = 1.1774  # median of |v| for v a 2-D standard normal vector
POINTS_PER_CHUNK = 20_000


@dataclass
class Inversion:
    """Cumulative displacement per date and what the inversion says about it.

    Arrays of (dates, points): ``east``, ``north``, ``sigma_east``, ``sigma_north`` (m; the
    first date 0 with 1-sigma 0). Of (points,): ``residual`` (m), ``used`` (pairs kept).
    Of (pairs, points): ``rejected`` (True where the robust reweighting rejected the pair).
    """

    east: np.ndarray
    north: np.ndarray
    sigma_east: np.ndarray
    sigma_north: np.ndarray
    residual: np.ndarray
    used: np.ndarray
    rejected: np.ndarray


def design(n_dates: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """(pairs, N - 1) design: +1 for the secondary's date, -1 for the reference's (not date 0)."""
    a = np.zeros((len(pairs), n_dates - 1))
    for p, (i, j) in enumerate(pairs):
        a[p, j - 1] += 1.0
        if i > 0:
            a[p, i - 1] -= 1.0
    return a


def smoothing_rows(n_dates: int) -> np.ndarray:
    """(N - 1, N - 1): x_{k+1} - x_k for every interval k (x_0 = 0)."""
    r = np.zeros((n_dates - 1, n_dates - 1))
    for k in range(n_dates - 1):
        r[k, k] = 1.0
        if k > 0:
            r[k, k - 1] = -1.0
    return r


def invert_network(
    dates: Sequence[dt.date],
    pairs: Sequence[tuple[int, int]],
    east: np.ndarray,
    north: np.ndarray,
    sigma_east: np.ndarray,
    sigma_north: np.ndarray,
) -> Inversion:
    """Invert pair offsets (pairs, points) in metres, NaN where a pair has no measurement."""
    n, m = len(dates), east.shape[1]
    out = Inversion(
        np.full((n, m), np.nan),
        np.full((n, m), np.nan),
        np.full((n, m), np.nan),
        np.full((n, m), np.nan),
        np.full(m, np.nan),
        np.zeros(m, np.int32),
        np.zeros((len(pairs), m), bool),
    )
    for a in range(0, m, POINTS_PER_CHUNK):
        z = min(m, a + POINTS_PER_CHUNK)
        part = _invert_chunk(
            dates, pairs, east[:, a:z], north[:, a:z], sigma_east[:, a:z], sigma_north[:, a:z]
        )
        for name in ("east", "north", "sigma_east", "sigma_north", "rejected"):
            getattr(out, name)[:, a:z] = getattr(part, name)
        out.residual[a:z], out.used[a:z] = part.residual, part.used
    return out


def _invert_chunk(
    dates: Sequence[dt.date],
    pairs: Sequence[tuple[int, int]],
    east: np.ndarray,
    north: np.ndarray,
    sigma_east: np.ndarray,
    sigma_north: np.ndarray,
) -> Inversion:
    n, m = len(dates), east.shape[1]
    a = design(n, pairs)
    reg = smoothing_rows(n)
    gaps = np.diff([d.toordinal() for d in dates]).astype(float)
    reg_scale = (np.median(gaps) / gaps) ** 2  # a long interval may hold more motion
    obs = np.stack([east, north]).astype(np.float64)  # (2, pairs, points)
    sig = np.stack([sigma_east, sigma_north]).astype(np.float64)
    ok = np.isfinite(obs).all(axis=0) & np.isfinite(sig).all(axis=0) & (sig > 0).all(axis=0)
    sig = np.where(ok, np.maximum(sig, 1e-6), 1.0)
    obs = np.where(ok, obs, 0.0)
    w0 = np.where(ok, 1.0 / sig**2, 0.0)  # (2, pairs, points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # points without any measurement
        s_med = np.nanmedian(np.where(ok[None], sig, np.nan).reshape(-1, m), axis=0)
    s_med = np.where(np.isfinite(s_med), s_med, 1.0)
    w_reg = (ALPHA / s_med)[None, :] ** 2 * reg_scale[:, None]  # (intervals, points)
    reg_normal = np.einsum("ki,km,kj->mij", reg, w_reg, reg)
    robust = ok.astype(float)
    scale = None
    for _ in range(ITERATIONS):
        x, normal = _solve(a, w0 * robust, obs, reg_normal)
        res = obs - np.einsum("pi,cmi->cpm", a, x)
        norm_r = np.hypot(res[0] / sig[0], res[1] / sig[1])
        if scale is None:  # from the least-squares fit, then fixed (a re-estimated scale
            # shrinks as the reweighting fits the kept pairs ever closer)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                scale = np.nanmedian(np.where(ok, norm_r, np.nan), axis=0) / CHI2_MEDIAN
            scale = np.maximum(np.where(np.isfinite(scale), scale, 1.0), 1.0)
        u = norm_r / (TUKEY_C * scale)
        robust = np.where(ok & (u < 1), (1 - u**2) ** 2, 0.0)
    x, normal = _solve(a, w0 * robust, obs, reg_normal)
    res = obs - np.einsum("pi,cmi->cpm", a, x)
    kept = robust > 0
    used = kept.sum(axis=0)
    dof = np.maximum(used - (n - 1), 1)
    sigma = np.empty((2, n - 1, m))
    for c in range(2):
        factor = np.maximum((w0[c] * robust * res[c] ** 2).sum(axis=0) / dof, 1.0)
        cov_diag = np.diagonal(np.linalg.inv(normal[c]), axis1=1, axis2=2)  # (points, N - 1)
        sigma[c] = np.sqrt(cov_diag.T * factor[None, :])
    sq = np.where(kept, res[0] ** 2 + res[1] ** 2, 0.0).sum(axis=0)
    residual = np.sqrt(sq / np.maximum(used, 1))
    none = used == 0
    full = np.zeros((2, n, m))
    full[:, 1:] = np.transpose(x, (0, 2, 1))
    full_sig = np.zeros((2, n, m))
    full_sig[:, 1:] = sigma
    full[:, :, none] = np.nan
    full_sig[:, :, none] = np.nan
    residual[none] = np.nan
    return Inversion(
        full[0],
        full[1],
        full_sig[0],
        full_sig[1],
        residual,
        used.astype(np.int32),
        ok & ~kept,
    )


def _solve(
    a: np.ndarray, w: np.ndarray, obs: np.ndarray, reg_normal: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per axis and point: x (2, points, N - 1) and the normal matrices (2, points, N-1, N-1)."""
    normal = np.einsum("pi,cpm,pj->cmij", a, w, a) + reg_normal[None]
    rhs = np.einsum("pi,cpm->cmi", a, w * obs)
    x = np.linalg.solve(normal, rhs[..., None])[..., 0]
    return x, normal


@dataclass
class Trend:
    """Mean velocity (m/yr) and acceleration (m/yr2) per axis with their 1-sigma, (points,)."""

    velocity: np.ndarray
    velocity_sigma: np.ndarray
    acceleration: np.ndarray
    acceleration_sigma: np.ndarray


def fit_trend(dates: Sequence[dt.date], series: np.ndarray, sigma: np.ndarray) -> Trend:
    """Weighted fits of a series (dates, points): a line for the mean velocity, a parabola
    x = c + v t + a t^2 / 2 for the acceleration (t in years from the mean date), weights
    1 / sigma^2 (the first date takes the second's sigma); 1-sigma from the normal equations
    times the a-posteriori variance factor (at least 1)."""
    t = np.array([d.toordinal() for d in dates], float) / 365.25
    t = t - t.mean()
    s = sigma.copy()
    s[0] = s[1]
    s = np.maximum(np.where(np.isfinite(s), s, np.nan), 1e-6)
    ok = np.isfinite(series) & np.isfinite(s)
    w = np.where(ok, 1.0 / s**2, 0.0)
    y = np.where(ok, series, 0.0)
    out = []
    for g in (np.stack([np.ones_like(t), t], 1), np.stack([np.ones_like(t), t, t**2 / 2], 1)):
        normal = np.einsum("ki,km,kj->mij", g, w, g)
        normal += np.eye(g.shape[1])[None] * 1e-12
        coef = np.linalg.solve(normal, np.einsum("ki,km->mi", g, w * y)[..., None])[..., 0]
        res = y - (coef @ g.T).T  # (dates, points)
        dof = np.maximum(ok.sum(axis=0) - g.shape[1], 1)
        factor = np.maximum((w * res**2).sum(axis=0) / dof, 1.0)
        var = np.diagonal(np.linalg.inv(normal), axis1=1, axis2=2)[:, -1] * factor
        bad = ok.sum(axis=0) < g.shape[1] + 1
        value, err = coef[:, -1], np.sqrt(var)
        value[bad], err[bad] = np.nan, np.nan
        out += [value, err]
    return Trend(out[0], out[1], out[2], out[3])
