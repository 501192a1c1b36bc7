"""Combination of the offsets of several window sizes into one estimate per point.

Small windows resolve sharp displacement gradients (landslide margins, fault ruptures); large
windows survive low contrast and decorrelation. As in autoRIFT's progressive chip sizes, each
point keeps the smallest window that gives a trustworthy match, and falls back to larger ones
where it does not. Going from the largest valid size down, a smaller size replaces the current
estimate when it is valid and either agrees with it within 1 pixel or has at least its peak NCC
(a small window inside one moving block correlates better than a large one straddling a margin;
a false peak of a small window on poor texture correlates worse than the large window). The
quality band is the peak NCC of the size kept.

An earlier rule (highest-NCC size leads, agreeing sizes averaged) favoured the large windows and
blurred the demo landslide: 1.57 m RMSE against 0.83 m for the 32 px windows alone.
"""

from __future__ import annotations

import numpy as np

from .pixel_offsets import PixelOffsets

AGREE_PX = 1.0


def combine_sizes(pixel: PixelOffsets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dy, dx, quality) grids combined over window sizes; NaN where no size is valid."""
    shape = pixel.dy[pixel.sizes[0]].shape
    dy = np.full(shape, np.nan, np.float32)
    dx = np.full(shape, np.nan, np.float32)
    q = np.full(shape, np.nan, np.float32)
    for size in sorted(pixel.sizes, reverse=True):
        sy, sx, sq = pixel.dy[size], pixel.dx[size], pixel.quality[size]
        valid = np.isfinite(sy) & np.isfinite(sx) & np.isfinite(sq)
        have = np.isfinite(q)
        with np.errstate(invalid="ignore"):
            agree = np.hypot(sy - dy, sx - dx) <= AGREE_PX
            better = sq >= q
        take = valid & (~have | agree | better)
        dy[take], dx[take], q[take] = sy[take], sx[take], sq[take]
    return dy, dx, q
