"""The real Jacksboro DEM (see engine/sample_data.py) on a projected grid, for SAR simulation."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ..raster_io import Grid
from ..sample_data import jacksboro_dem


def jacksboro_dem_utm(pixel_size: float = 30.0) -> tuple[np.ndarray, Grid]:
    """The Jacksboro DEM reprojected to UTM zone 16N (EPSG:32616) at ``pixel_size`` metres.

    Cubic resampling; the edges that fall outside the source are cropped away so that every
    returned pixel is valid.
    """
    z, grid = jacksboro_dem()
    dst_crs = CRS.from_epsg(32616)
    transform, width, height = calculate_default_transform(
        grid.crs, dst_crs, grid.width, grid.height, *grid.bounds, resolution=pixel_size
    )
    out = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        z,
        out,
        src_transform=grid.transform,
        src_crs=grid.crs,
        dst_transform=transform,
        dst_crs=dst_crs,
        resampling=Resampling.cubic,
        dst_nodata=np.nan,
    )
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
