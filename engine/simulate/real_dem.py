"""The real Jacksboro DEM (engine/dem/sample_data.py) on a projected grid, for SAR simulation."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ..dem.sample_data import jacksboro_dem
from ..io.raster_io import Grid
from .utm import to_utm


def jacksboro_dem_utm(pixel_size: float = 30.0) -> tuple[np.ndarray, Grid]:
    """The Jacksboro DEM reprojected to UTM zone 16N (EPSG:32616) at ``pixel_size`` metres.

    Cubic resampling; the edges that fall outside the source are cropped away so that every
    returned pixel is valid.
    """
    z, grid = jacksboro_dem()
    out, out_grid = to_utm(z, grid, pixel_size, CRS.from_epsg(32616))
    transform, height, width = out_grid.transform, out_grid.height, out_grid.width
    dst_crs = out_grid.crs
    r0, r1, c0, c1 = 0, height, 0, width
    while r1 - r0 > 2 and c1 - c0 > 2:  # peel the edge with most invalid pixels until none
        crop = out[r0:r1, c0:c1]
        edges = [
            np.isnan(crop[0]).sum(),
            np.isnan(crop[-1]).sum(),
            np.isnan(crop[:, 0]).sum(),
            np.isnan(crop[:, -1]).sum(),
        ]
        worst = int(np.argmax(edges))
        if edges[worst] == 0:
            break
        if worst == 0:
            r0 += 1
        elif worst == 1:
            r1 -= 1
        elif worst == 2:
            c0 += 1
        else:
            c1 -= 1
    crop = out[r0:r1, c0:c1]
    shifted = transform * Affine.translation(c0, r0)
    return crop.copy(), Grid(dst_crs, shifted, crop.shape[1], crop.shape[0])
