"""Pairs with known displacement fields on which the classical tracker's uncertainty is checked.

Each case names a field, a speckle regime and a texture (smooth synthetic, or a real DEM seen by
radar); :func:`tracked_case` simulates the pair, runs the tracker's correlation and combination
(engine.offsets) and returns the result with the true offsets at the window centres. Used by
scripts/calibrate_offset_sigma.py and the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from . import displacement, sar_amplitude
from .speckle_pair import SpeckleConfig, simulate_pair

SHAPE = (384, 384)
WINDOW_SIZES = (32, 64)
STEP = 8
SEARCH = 6

# name -> (field kind, looks, coherence, texture)
CASES: dict[str, tuple[str, int, float, str]] = {
    "uniform, 4 looks": ("uniform", 4, 0.9, "synthetic"),
    "varying, 4 looks": ("varying", 4, 0.9, "synthetic"),
    "uniform, 1 look": ("uniform", 1, 0.9, "synthetic"),
    "varying, 1 look": ("varying", 1, 0.9, "synthetic"),
    "uniform, 16 looks": ("uniform", 16, 0.9, "synthetic"),
    "decorrelated, 4 looks": ("uniform", 4, 0.5, "synthetic"),
    "decorrelated varying, 1 look": ("varying", 1, 0.4, "synthetic"),
    "real texture, uniform, 4 looks": ("uniform", 4, 0.9, "real"),
    "real texture, varying, 1 look": ("varying", 1, 0.9, "real"),
}


def real_texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Radar brightness of a crop of the real Jacksboro fault DEM (matplotlib's sample data,
    always installed) under a random viewing geometry (textures.DemSource), NaN-free."""
    from ..dem.sample_data import jacksboro_dem
    from .textures import DemSource

    source = DemSource("jacksboro", "tennessee", None, 50.0, (1.0, 1.5), dem=jacksboro_dem())
    refl = source.draw(np.random.default_rng(seed), shape[0]).reflectivity
    return np.nan_to_num(refl, nan=float(np.nanmean(refl)))


def case_pair(name: str, seed: int) -> tuple[np.ndarray, ...]:
    """(reference, secondary, true dy, true dx) in pixels for one case."""
    kind, looks, coherence, texture = CASES[name]
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        dy, dx = displacement.uniform_field(SHAPE, *rng.uniform(-2.5, 2.5, 2))
    else:
        dy, dx = displacement.smooth_random_field(SHAPE, 2.5, 150.0, seed)
    refl = ndimage.gaussian_filter(np.exp(0.3 * rng.standard_normal(SHAPE)), 3)
    if texture == "real":
        config = SpeckleConfig(looks=looks, coherence=coherence)
        pair = simulate_pair(real_texture(SHAPE, seed), dy, dx, config, rng)
        return pair.reference, pair.secondary, dy, dx
    ref, sec = sar_amplitude.speckled_pair(
        refl, dy, dx, looks=looks, coherence=coherence, seed=seed
    )
    return ref, sec, dy, dx


def tracked_case(
    name: str, seed: int
) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(per-size offsets, combined dy, combined dx, true dy, true dx) on the centre grid."""
    import torch
    from affine import Affine

    from ..core.progress import Reporter
    from ..io.raster_io import Grid
    from ..offsets.dense_prior import combined_offsets
    from ..offsets.strip_preparation import ArrayReader
    from ..offsets.tracking import correlate

    ref, sec, ty, tx = case_pair(name, seed)
    image = Grid(None, Affine.identity(), SHAPE[1], SHAPE[0])
    pixel = correlate(
        ArrayReader(ref),
        ArrayReader(sec),
        image,
        WINDOW_SIZES,
        STEP,
        SEARCH,
        torch.device("cpu"),
        128,
        Reporter(),
    )
    dy, dx, _ = combined_offsets(pixel, 0.1)
    g = pixel.grid
    rows = g.first_row + np.arange(g.rows) * g.step
    cols = g.first_col + np.arange(g.cols) * g.step

    # the true offset at each centre (a pixel corner): mean of the four pixels around it
    def at_centres(f: np.ndarray) -> np.ndarray:
        quad = (f[:-1, :-1] + f[1:, :-1] + f[:-1, 1:] + f[1:, 1:]) / 4
        return quad[np.ix_(rows - 1, cols - 1)].astype(np.float32)

    return pixel, dy, dx, at_centres(ty), at_centres(tx)
