"""Cubic spline upsampling with back-projection: the strong classical DEM super-resolution.

The upsampled surface is a cubic B-spline with knots at the low-resolution pixel centres (so it
is twice continuously differentiable: its slope and curvature have no jump, and hillshades show
no texture with the period of the scale factor), whose coefficients are chosen so that every
``scale x scale`` output block averages exactly to its low-resolution pixel (what a coarser DEM
cell measures). This is the fixed point of iterative back-projection with a spline-interpolated
correction (Irani and Peleg 1991), reached in one step: with ``b_p`` the spline's values at
output phase ``p`` and ``h`` the block mean of ``b_p`` over the phases, the coefficients are
``c = h^-1 * x`` and output phase ``p`` is ``b_p * h^-1 * x``. ``h`` is a symmetric 5-tap filter
with no zero on the unit circle, so ``h^-1`` decays geometrically (pole about 0.36): the
per-phase kernels are truncated where their tail falls below ``TAIL`` and applied separably
along rows and columns with half-sample symmetric borders. A last nearest-neighbour correction
removes the truncation residue, so block means match to float precision.

Nodata: filled from the nearest valid pixel before upsampling (holes do not pull neighbours
towards zero), and every output pixel whose low-resolution parent is nodata is nodata.
No torch here: :mod:`.dem_evaluation` uses it without the deep-learning dependencies.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

TAIL = 1e-9  # relative size of the kernels' truncated tail
_FFT_SIZE = 4096


def _bspline3(t: np.ndarray) -> np.ndarray:
    """The centred cubic B-spline."""
    a = np.abs(t)
    return np.where(a < 1, 2 / 3 - a**2 + a**3 / 2, np.where(a < 2, (2 - a) ** 3 / 6, 0.0)).astype(
        np.float64
    )


@lru_cache(maxsize=8)
def spline_kernels(scale: int) -> np.ndarray:
    """Per-phase convolution kernels, shape ``(scale, 2R+1)``, float64, centred at index R.

    Output pixel ``scale*n + p`` (along one axis) is ``sum_m k[p, m] * x[n - (m - R)]``.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    delta = (np.arange(scale) + 0.5) / scale - 0.5  # output pixel centres, in input pixels
    taps = np.arange(-2, 3)
    b = np.stack([_bspline3(taps + d) for d in delta])  # b[p, m]: spline weight of c[n - m]
    h = b.mean(axis=0)
    w = 2 * np.pi * np.fft.fftfreq(_FFT_SIZE, d=1.0)
    phase = np.exp(-1j * np.outer(taps, w))  # (5, L)
    kernels_f = (b @ phase) / (h @ phase)
    k = np.real(np.fft.ifft(kernels_f, axis=1))
    k = np.fft.fftshift(k, axes=1)  # index L/2 is m = 0
    centre = _FFT_SIZE // 2
    mags = np.abs(k).max(axis=0)
    outside = np.nonzero(mags >= TAIL * mags.max())[0]
    radius = int(max(centre - outside.min(), outside.max() - centre))
    return np.ascontiguousarray(k[:, centre - radius : centre + radius + 1])


def _upsample_axis(x: np.ndarray, scale: int, axis: int) -> np.ndarray:
    from scipy import ndimage

    k = spline_kernels(scale)
    phases = [ndimage.convolve1d(x, k[p], axis=axis, mode="reflect") for p in range(scale)]
    out = np.stack(phases, axis=axis + 1)
    shape = list(x.shape)
    shape[axis] *= scale
    return out.reshape(shape)


def fill_nearest(values: np.ndarray) -> np.ndarray:
    """Copy of ``values`` with each non-finite pixel replaced by its nearest finite one."""
    from scipy import ndimage

    invalid = ~np.isfinite(values)
    if not invalid.any():
        return values
    if invalid.all():
        raise ValueError("no valid value to fill from")
    idx = ndimage.distance_transform_edt(invalid, return_distances=False, return_indices=True)
    return values[tuple(idx)]


def spline_bp_upsample(lr: np.ndarray, scale: int) -> np.ndarray:
    """Upsample a 2-D array by ``scale`` with the back-projected cubic spline (float32 out).

    Every ``scale x scale`` output block averages to its input pixel (to float precision);
    output pixels over non-finite input pixels are NaN.
    """
    lr = np.asarray(lr)
    invalid = ~np.isfinite(lr)
    if invalid.all():
        return np.full((lr.shape[0] * scale, lr.shape[1] * scale), np.nan, np.float32)
    x = fill_nearest(lr).astype(np.float64)
    offset = float(x.mean())  # filters sum to one: work on anomalies for precision
    x = x - offset
    out = _upsample_axis(_upsample_axis(x, scale, 1), scale, 0)
    rows, cols = x.shape
    residual = x - out.reshape(rows, scale, cols, scale).mean(axis=(1, 3))
    out += np.repeat(np.repeat(residual, scale, 0), scale, 1)  # truncation residue only
    out += offset
    if invalid.any():
        out[np.repeat(np.repeat(invalid, scale, 0), scale, 1)] = np.nan
    return out.astype(np.float32)
