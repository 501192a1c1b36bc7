"""Seeded fractal terrain: synthetic DEMs for training and tests.

Spectral synthesis (a random-phase field with a power-law spectrum, the classical fractional
Brownian surface) mixed with a ridged variant and a valley-deepening power, then scaled to a
random relief. It is not a landscape-evolution model: it has no drainage network, so models
trained only on it learn generic rough relief, which is why real DEMs are mixed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TerrainConfig:
    """Parameters of :func:`fractal_terrain`.

    Args:
        beta: spectral exponent of the power spectrum (P(k) ~ k^-beta); 2 is rough, 3.5 smooth.
        ridged: 0..1 blend towards ridged terrain (sharp crests, rounded valleys).
        valley_power: >1 deepens and flattens valleys (elevation ** power on 0..1).
        relief_m: elevation range in metres.
        base_m: lowest elevation in metres.
    """

    beta: float = 2.6
    ridged: float = 0.3
    valley_power: float = 1.5
    relief_m: float = 800.0
    base_m: float = 200.0


def _spectral_field(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    rows, cols = shape
    ky = np.fft.fftfreq(rows, d=1.0)[:, None]
    kx = np.fft.rfftfreq(cols, d=1.0)[None, :]
    k = np.hypot(kx, ky)
    k[0, 0] = 1.0
    amplitude = k ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, amplitude.shape)
    noise = rng.standard_normal(amplitude.shape)
    field = np.fft.irfft2(amplitude * noise * np.exp(1j * phase), s=shape)
    return (field - field.mean()) / (field.std() + 1e-12)


def fractal_terrain(
    shape: tuple[int, int], seed: int, config: TerrainConfig | None = None
) -> np.ndarray:
    """A float32 DEM of ``shape`` in metres, reproducible from ``seed``."""
    cfg = config or TerrainConfig()
    rng = np.random.default_rng(seed)
    base = _spectral_field(rng, shape, cfg.beta)
    ridges = 1.0 - np.abs(_spectral_field(rng, shape, cfg.beta))
    field = (1.0 - cfg.ridged) * base + cfg.ridged * 2.0 * ridges
    unit = (field - field.min()) / (np.ptp(field) + 1e-12)
    unit = unit**cfg.valley_power
    return (cfg.base_m + cfg.relief_m * unit).astype(np.float32)


def random_terrain(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Fractal terrain with its parameters drawn from ``seed`` (variety for training)."""
    rng = np.random.default_rng(seed + 7919)
    cfg = TerrainConfig(
        beta=float(rng.uniform(2.2, 3.4)),
        ridged=float(rng.uniform(0.0, 0.8)),
        valley_power=float(rng.uniform(1.0, 2.5)),
        relief_m=float(rng.uniform(50.0, 3000.0)),
        base_m=float(rng.uniform(-100.0, 4000.0)),
    )
    return fractal_terrain(shape, seed, cfg)
