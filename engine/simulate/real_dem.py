"""The real Jacksboro DEM (see engine/sample_data.py) on a projected grid, for SAR simulation."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ..raster_io import Grid
from ..sample_data import jacksboro_dem


def utm_crs(grid: Grid) -> CRS:
    """The WGS84 UTM zone of a grid's centre."""
    from rasterio.warp import transform as transform_points

    cx, cy = grid.transform * (grid.width / 2, grid.height / 2)
    if grid.crs is not None and not grid.crs.is_geographic:
        xs, ys = transform_points(grid.crs, CRS.from_epsg(4326), [cx], [cy])
        cx, cy = xs[0], ys[0]
    zone = int((cx + 180) // 6) % 60 + 1
    return CRS.from_epsg((32600 if cy >= 0 else 32700) + zone)


def to_utm(
    z: np.ndarray, grid: Grid, pixel_size: float, dst_crs: CRS | None = None
) -> tuple[np.ndarray, Grid]:
    """A DEM reprojected (cubic) to its UTM zone at ``pixel_size`` metres, NaN for nodata.

    Args:
        z: elevations (NaN where nodata), on ``grid``.
        grid: the DEM's grid.
        pixel_size: output pixel size, metres.
        dst_crs: output CRS (default: the UTM zone of the grid's centre).
    """
    dst_crs = dst_crs or utm_crs(grid)
    transform, width, height = calculate_default_transform(
        grid.crs, dst_crs, grid.width, grid.height, *grid.bounds, resolution=pixel_size
    )
    out = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        z.astype(np.float32),
        out,
        src_transform=grid.transform,
        src_crs=grid.crs,
        dst_transform=transform,
        dst_crs=dst_crs,
        resampling=Resampling.cubic,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    return out, Grid(dst_crs, transform, width, height)


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
