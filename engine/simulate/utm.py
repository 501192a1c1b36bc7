"""Reprojection of a DEM to its UTM zone (square metre pixels), for radar simulation."""

from __future__ import annotations

import numpy as np
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ..io.raster_io import Grid


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
