"""Combination of the offsets of several window sizes into one estimate per point.

Small windows resolve sharp displacement gradients (landslide margins), large windows are
robust on low-contrast or noisy ground. Per point, the size with the highest peak NCC gives a
reference estimate; every size that agrees with it within 1 pixel joins a mean weighted by its
peak NCC squared, and sizes that disagree (usually a false peak) are left out. The quality band
is the highest peak NCC among the sizes used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .tracking import PixelOffsets

AGREE_PX = 1.0


def combine_sizes(pixel: "PixelOffsets") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dy, dx, quality) grids combined over window sizes; NaN where no size is valid."""
    dy = np.stack([pixel.dy[w] for w in pixel.sizes])
    dx = np.stack([pixel.dx[w] for w in pixel.sizes])
    q = np.stack([pixel.quality[w] for w in pixel.sizes])
    valid = np.isfinite(q) & np.isfinite(dy) & np.isfinite(dx)
    any_valid = valid.any(axis=0)
    q_rank = np.where(valid, q, -np.inf)
    best = q_rank.argmax(axis=0)
    take = np.take_along_axis
    by = take(dy, best[None], 0)[0]
    bx = take(dx, best[None], 0)[0]
    agree = valid & (np.hypot(dy - by, dx - bx) <= AGREE_PX)
    wts = np.where(agree, np.nan_to_num(q) ** 2, 0.0)
    wsum = wts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out_dy = (wts * np.nan_to_num(dy)).sum(axis=0) / wsum
        out_dx = (wts * np.nan_to_num(dx)).sum(axis=0) / wsum
    out_q = np.where(any_valid, np.max(np.where(agree, q, -np.inf), axis=0), np.nan)
    nan = np.float32(np.nan)
    return (
        np.where(any_valid, out_dy, nan).astype(np.float32),
        np.where(any_valid, out_dx, nan).astype(np.float32),
        out_q.astype(np.float32),
    )
