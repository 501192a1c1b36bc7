"""Outlier removal on offset grids, as the CC-ResSiamNet authors post-process offsets.

- ``median``: replace each value by the NaN-aware median of its 3 x 3 neighbourhood (smooths
  speckle noise; keeps edges better than a mean).
- ``2-sigma``: drop points whose vector residual from the 3 x 3 neighbourhood median exceeds
  two standard deviations of all residuals. The standard deviation is estimated robustly
  (1.4826 x median absolute residual), so a few gross outliers do not hide each other, with a
  floor of half a pixel: false matches are off by pixels, and sub-pixel noise on good points
  (which on uniform motion is a few hundredths of a pixel) must never be removed as outliers.
"""

from __future__ import annotations

import numpy as np

FLOOR_PX = 0.5
FILTERS = ("none", "2-sigma", "median", "2-sigma + median")


def nan_median3(a: np.ndarray) -> np.ndarray:
    """NaN-aware 3 x 3 median; NaN only where the whole neighbourhood is NaN."""
    padded = np.pad(a, 1, mode="constant", constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    stack = win.reshape(a.shape[0], a.shape[1], 9)
    out = np.full(a.shape, np.nan, dtype=a.dtype)
    has = np.isfinite(stack).any(axis=2)
    out[has] = np.nanmedian(stack[has], axis=1)
    return out


def two_sigma_mask(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """True where a point is an outlier by the robust 2-sigma rule (see module doc)."""
    ry = dy - nan_median3(dy)
    rx = dx - nan_median3(dx)
    res = np.hypot(ry, rx)
    finite = np.isfinite(res)
    if finite.sum() < 9:
        return np.zeros(dy.shape, dtype=bool)
    sigma = 1.4826 * float(np.median(res[finite]))
    sigma = max(sigma, 1e-3)
    return finite & (res > max(2.0 * sigma, FLOOR_PX))


def apply_filter(dy: np.ndarray, dx: np.ndarray, quality: np.ndarray, name: str) -> int:
    """Filter offset grids in place; returns the number of points removed as outliers."""
    if name not in FILTERS:
        raise ValueError(f"unknown outlier filter {name}")
    removed = 0
    if "2-sigma" in name:
        bad = two_sigma_mask(dy, dx)
        removed = int(bad.sum())
        for arr in (dy, dx, quality):
            arr[bad] = np.nan
    if "median" in name:
        valid = np.isfinite(dy)
        my, mx = nan_median3(dy), nan_median3(dx)
        dy[valid] = my[valid]
        dx[valid] = mx[valid]
    return removed
