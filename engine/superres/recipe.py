"""The data recipe of the bundled DEM super-resolution models (used by scripts/train_dem_sr.py).

- Stage 1 images: the natural photographs shipped with scikit-image and matplotlib, or a folder.
- Stage 2 DEMs: the Jacksboro DEM outside its held-out test and validation blocks (with a 4 px
  buffer), the topobathy grid, user GeoTIFFs if given, and seeded fractal terrain.
- Validation: the Jacksboro validation block. Test (reported in the card): the test block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dem_metrics import compare_dems, metres_per_pixel
from ..raster_io import Grid
from ..sample_data import JACKSBORO_TEST, JACKSBORO_VALIDATION, block, jacksboro_dem, topobathy_dem
from ..terrain import random_terrain
from .card import super_resolve_array
from .degrade import block_mean, upsample
from .natural_images import load_gray
from .patches import PatchSampler, PatchSource
from .training import ValidationSet

BUFFER_PX = 4
FRACTAL_TILES = 16
FRACTAL_SIZE = 256


def grid_pixel_m(grid: Grid) -> tuple[float, float]:
    geographic = grid.crs is not None and grid.crs.is_geographic
    lat = (grid.bounds[1] + grid.bounds[3]) / 2
    return metres_per_pixel(grid.pixel_size, bool(geographic), lat)


def image_sources(paths: list[str]) -> list[PatchSource]:
    return [PatchSource(load_gray(p), name=p.rsplit("/", 1)[-1]) for p in paths]


def dem_sources(
    extra: list[tuple[np.ndarray, str]] | None = None, seed: int = 0
) -> list[PatchSource]:
    dem, _ = jacksboro_dem()
    allowed = np.ones(dem.shape, bool)
    for r0, r1, c0, c1 in (JACKSBORO_TEST, JACKSBORO_VALIDATION):
        allowed[
            max(r0 - BUFFER_PX, 0) : r1 + BUFFER_PX, max(c0 - BUFFER_PX, 0) : c1 + BUFFER_PX
        ] = False
    sources = [PatchSource(dem, allowed, 0.45, "jacksboro (train part)")]
    topo, _ = topobathy_dem()
    sources.append(PatchSource(topo, None, 0.10, "topobathy"))
    for arr, name in extra or []:
        sources.append(PatchSource(arr, None, 0.25, name))
    for i in range(FRACTAL_TILES):
        terrain = random_terrain((FRACTAL_SIZE, FRACTAL_SIZE), seed=10_000 + seed * 100 + i)
        sources.append(PatchSource(terrain, None, 0.45 / FRACTAL_TILES, f"fractal {i}"))
    return sources


def samplers(
    image_paths: list[str],
    hr_patch: int,
    scale: int,
    bins: int,
    extra: list[tuple[np.ndarray, str]] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    images = image_sources(image_paths)
    dems = dem_sources(extra, seed)
    return {
        "images": lambda s: PatchSampler(images, hr_patch, scale, s, elevation_bins=1),
        "dems": lambda s: PatchSampler(dems, hr_patch, scale, s, elevation_bins=bins),
    }


def validation_set() -> ValidationSet:
    dem, grid = jacksboro_dem()
    arr, g = block(dem, grid, JACKSBORO_VALIDATION)
    return ValidationSet([arr], [grid_pixel_m(g)])


def test_block() -> tuple[np.ndarray, Grid]:
    dem, grid = jacksboro_dem()
    return block(dem, grid, JACKSBORO_TEST)


def held_out_metrics(net: Any, scale: int) -> dict[str, dict[str, float]]:
    """Model, bicubic and nearest on the held-out Jacksboro block (LR = block mean of HR)."""
    hr, grid = test_block()
    dx, dy = grid_pixel_m(grid)
    lr = block_mean(hr, scale)
    results = {
        "model": compare_dems(super_resolve_array(net, lr, scale), hr, dx, dy),
        "bicubic": compare_dems(upsample(lr, scale, "bicubic"), hr, dx, dy),
        "nearest": compare_dems(upsample(lr, scale, "nearest"), hr, dx, dy),
    }
    return {k: v.as_dict() for k, v in results.items()}
