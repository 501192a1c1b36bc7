"""Pairs with known displacement fields on which the classical tracker's uncertainty is checked.

Each case names a field and a speckle regime; :func:`tracked_case` simulates the pair, runs the
tracker's correlation and combination (engine.offsets) and returns the result with the true
offsets at the window centres. Used by scripts/calibrate_offset_sigma.py and the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from . import displacement, sar_amplitude

SHAPE = (384, 384)
WINDOW_SIZES = (32, 64)
STEP = 8
SEARCH = 6

# name -> (field kind, looks, coherence)
CASES: dict[str, tuple[str, int, float]] = {
    "uniform, 4 looks": ("uniform", 4, 0.9),
    "varying, 4 looks": ("varying", 4, 0.9),
    "uniform, 1 look": ("uniform", 1, 0.9),
    "varying, 1 look": ("varying", 1, 0.9),
    "uniform, 16 looks": ("uniform", 16, 0.9),
    "decorrelated, 4 looks": ("uniform", 4, 0.5),
    "decorrelated varying, 1 look": ("varying", 1, 0.4),
}


def case_pair(name: str, seed: int) -> tuple[np.ndarray, ...]:
    """(reference, secondary, true dy, true dx) in pixels for one case."""
    kind, looks, coherence = CASES[name]
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        dy, dx = displacement.uniform_field(SHAPE, *rng.uniform(-2.5, 2.5, 2))
    else:
        dy, dx = displacement.smooth_random_field(SHAPE, 2.5, 150.0, seed)
    refl = ndimage.gaussian_filter(np.exp(0.3 * rng.standard_normal(SHAPE)), 3)
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

    from ..offsets.dense_prior import ArrayReader, combined_offsets
    from ..offsets.tracking import correlate
    from ..progress import Reporter
    from ..raster_io import Grid

    ref, sec, ty, tx = case_pair(name, seed)
    image = Grid(None, Affine.identity(), SHAPE[1], SHAPE[0])
    pixel = correlate(
        ArrayReader(ref),  # type: ignore[arg-type]
        ArrayReader(sec),  # type: ignore[arg-type]
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
