"""The held-out Jacksboro block written for comparisons: the demo's DEM super-resolution input.

Demo code, not shipped in the plugin zip (export-ignore): it reads matplotlib's sample data.
"""

from __future__ import annotations

import os

from affine import Affine

from ...dem.sample_data import JACKSBORO_TEST, block, jacksboro_dem
from ...io.raster_io import Grid, write_raster
from .degrade import block_mean, upsample


def write_held_out_pair(folder: str, scale: int) -> dict[str, str]:
    """Write the held-out Jacksboro block as HR truth, its block-mean LR version and the bicubic
    and nearest upsamplings of that LR (for comparisons), as GeoTIFFs in ``folder``."""
    os.makedirs(folder, exist_ok=True)
    dem, grid = jacksboro_dem()
    hr, hr_grid = block(dem, grid, JACKSBORO_TEST)
    lr = block_mean(hr, scale)
    lr_grid = Grid(hr_grid.crs, hr_grid.transform * Affine.scale(scale), lr.shape[1], lr.shape[0])
    paths = {
        "hr": os.path.join(folder, "jacksboro_heldout_hr.tif"),
        "lr": os.path.join(folder, f"jacksboro_heldout_lr_x{scale}.tif"),
        "bicubic": os.path.join(folder, f"jacksboro_heldout_bicubic_x{scale}.tif"),
        "nearest": os.path.join(folder, f"jacksboro_heldout_nearest_x{scale}.tif"),
    }
    write_raster(paths["hr"], hr[None], hr_grid, ["elevation (m)"])
    write_raster(paths["lr"], lr[None], lr_grid, ["elevation (m)"])
    write_raster(paths["bicubic"], upsample(lr, scale, "bicubic")[None], hr_grid, ["elevation (m)"])
    write_raster(paths["nearest"], upsample(lr, scale, "nearest")[None], hr_grid, ["elevation (m)"])
    return paths
