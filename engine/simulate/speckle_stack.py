"""A stack of SAR-like amplitude images of ground that moves over time (speckle_pair.py's model
extended to N dates).

Date k sees the ground moved by the cumulative displacement (dy_k, dx_k) pixels. Each look's
complex speckle lives on the ground and decorrelates from date to date,
``g_k = gamma * g_{k-1} + sqrt(1 - gamma^2) * g_new`` (so the coherence between dates i and j
is gamma^|j - i|, temporal decorrelation), and is seen at the moved positions (quintic splines,
warp.py). The brightness may change with the season: a smooth random pattern on the ground
scaled by sin(2 pi t / 1 year), as vegetation and soil moisture do. Amplitudes are
sqrt(intensity).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from . import warp
from .speckle_pair import _complex_speckle


@dataclass(frozen=True)
class StackConfig:
    """How the dates are imaged.

    Args:
        looks: independent looks averaged.
        coherence: speckle coherence between consecutive dates, 0-1.
        psf_sigma: Gaussian impulse response, pixels.
        seasonal: standard deviation of the log brightness change at the season's peak.
        seasonal_scale_px: correlation length of the seasonal pattern, pixels.
    """

    looks: int = 4
    coherence: float = 0.95
    psf_sigma: float = 0.8
    seasonal: float = 0.0
    seasonal_scale_px: float = 12.0


def simulate_stack(
    reflectivity: np.ndarray,
    dates: Sequence[dt.date],
    dy: np.ndarray,
    dx: np.ndarray,
    config: StackConfig | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """(N, rows, cols) float32 amplitudes of ``reflectivity`` (>= 0) at each date, the ground
    moved by the cumulative (dy, dx) (N, rows, cols) pixels, dy down, dx right."""
    cfg = config or StackConfig()
    rng = rng or np.random.default_rng(0)
    shape = reflectivity.shape
    refl = np.clip(reflectivity.astype(np.float64), 0.0, None)
    season = ndimage.gaussian_filter(rng.standard_normal(shape), cfg.seasonal_scale_px)
    season /= season.std() + 1e-12
    looks = [_complex_speckle(shape, cfg.psf_sigma, rng) for _ in range(cfg.looks)]
    fresh = np.sqrt(max(0.0, 1.0 - cfg.coherence**2))
    t0 = dates[0].toordinal()
    out = np.empty((len(dates), *shape), np.float32)
    for k, date in enumerate(dates):
        if k > 0:
            looks = [
                cfg.coherence * g + fresh * _complex_speckle(shape, cfg.psf_sigma, rng)
                for g in looks
            ]
        inverse = warp.inverse_map(dy[k], dx[k])
        phase = np.sin(2 * np.pi * (date.toordinal() - t0) / 365.25)
        bright = refl * np.exp(cfg.seasonal * phase * season)
        moved = np.clip(warp.sample(bright, *inverse, order=3), 1e-6 * refl.mean(), None)
        intensity = sum(np.abs(warp.sample(g, *inverse)) ** 2 for g in looks) / cfg.looks
        out[k] = np.sqrt(moved * intensity).astype(np.float32)
    return out
