"""Calibrated 1-sigma uncertainty of the combined offsets, per point, in pixels.

Three parts, added in quadrature for each axis:

1. the correlation peak's own precision (:func:`ncc.peak_sigma`: decorrelation 1 - c^2 against
   the peak's curvature and the window's pixel count, raised where the surface is noisy, the
   ampcor covariance / COSI-Corr SNR idea), times ``PEAK_SCALE``;
2. the disagreement between the window size kept and the nearest other valid size, times
   ``AGREEMENT_SCALE`` (a false peak or a field varying inside the window shows there);
3. a floor ``FLOOR_PX`` for what neither sees (residual sub-pixel bias of the peak fit).

The three constants were fitted on simulated pairs with known fields (uniform and smoothly
varying motion, 1, 4 and 16 looks, coherence 0.9, 0.5 and 0.4, a smooth synthetic and a real
DEM-based texture; seed 11; ``scripts/calibrate_offset_sigma.py``), so that about 95% of true
errors lie within 2 sigma in each case (tests/test_offset_uncertainty.py measures the share per
case). They depend on the sub-pixel estimator: refitted when window deformation (deform.py)
replaced the first pass's 3-point fits, whose pixel locking the floor had covered.
"""

from __future__ import annotations

import numpy as np

from .pixel_offsets import PixelOffsets

PEAK_SCALE = 0.8
AGREEMENT_SCALE = 4.0
FLOOR_PX = 0.0


def kept_size(pixel: PixelOffsets, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """The window size whose offsets the combination kept at each point (0 where none)."""
    kept = np.zeros(dy.shape, np.int32)
    for size in sorted(pixel.sizes, reverse=True):
        same = (pixel.dy[size] == dy) & (pixel.dx[size] == dx)
        kept[same] = size
    return kept


def combined_sigma(
    pixel: PixelOffsets,
    dy: np.ndarray,
    dx: np.ndarray,
    peak_scale: float = PEAK_SCALE,
    agreement_scale: float = AGREEMENT_SCALE,
    floor_px: float = FLOOR_PX,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated 1-sigma (rows, columns) in pixels of the combined offsets; NaN where dy is."""
    kept = kept_size(pixel, dy, dx)
    raw_y = np.full(dy.shape, np.nan, np.float64)
    raw_x = np.full(dy.shape, np.nan, np.float64)
    gap_y = np.full(dy.shape, np.inf)
    gap_x = np.full(dy.shape, np.inf)
    for size in pixel.sizes:
        here = kept == size
        raw_y[here] = pixel.sigma_y[size][here]
        raw_x[here] = pixel.sigma_x[size][here]
        other = ~here & np.isfinite(pixel.dy[size]) & np.isfinite(pixel.dx[size])
        with np.errstate(invalid="ignore"):
            dist = np.hypot(pixel.dy[size] - dy, pixel.dx[size] - dx)
            closer = other & (dist < np.hypot(gap_y, gap_x))
        gap_y[closer] = np.abs(pixel.dy[size] - dy)[closer]
        gap_x[closer] = np.abs(pixel.dx[size] - dx)[closer]
    gap_y[~np.isfinite(gap_y)] = 0.0
    gap_x[~np.isfinite(gap_x)] = 0.0
    sy = np.sqrt((peak_scale * raw_y) ** 2 + (agreement_scale * gap_y) ** 2 + floor_px**2)
    sx = np.sqrt((peak_scale * raw_x) ** 2 + (agreement_scale * gap_x) ** 2 + floor_px**2)
    bad = ~(np.isfinite(dy) & np.isfinite(dx))
    sy[bad] = np.nan
    sx[bad] = np.nan
    return sy.astype(np.float32), sx.astype(np.float32)
