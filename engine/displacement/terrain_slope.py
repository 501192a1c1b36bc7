"""Slope and aspect of a DEM averaged onto a displacement grid."""

from __future__ import annotations

import os

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.warp import reproject

from ..core.progress import Reporter
from ..io.dem_values import ElevationGuard, check_dem_size
from ..io.geodesy import check_north_up, row_metres
from ..io.raster_io import Grid, damaged


def dem_gradient_on_grid(
    dem_path: str, target: Grid, reporter: Reporter | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Elevation gradient (dz/d-east, dz/d-north, metres per metre) of a DEM, computed on the
    DEM's own grid (central differences) and averaged onto ``target``.

    Averaging the gradient vector rather than resampling elevations keeps the slope of a fine
    DEM under a coarse displacement grid (the window-centre grid of offset tracking).
    """
    name = os.path.basename(dem_path)
    try:
        with rasterio.open(dem_path) as src:
            grid = Grid(src.crs, src.transform, src.width, src.height)
            check_north_up(grid, name)
            check_dem_size(grid.width, grid.height, name)
            z = np.ma.filled(src.read(1, masked=True).astype("float64"), np.nan)
    except RasterioIOError as exc:
        raise damaged(dem_path) from exc
    guard = ElevationGuard.for_path(dem_path)
    z = guard.clean(z)
    if reporter is not None:
        guard.warn(reporter)
    dx, dy = row_metres(grid, np.arange(grid.height))
    dz_drow, dz_dcol = np.gradient(z)
    dz_east = dz_dcol / dx[:, None]
    dz_north = dz_drow / dy[:, None]
    out = []
    finer = min(grid.pixel_size) <= min(target.pixel_size)
    for band in (dz_east, dz_north):
        dst = np.full((target.height, target.width), np.nan, dtype="float32")
        reproject(
            band.astype("float32"),
            dst,
            src_transform=grid.transform,
            src_crs=grid.crs,
            dst_transform=target.transform,
            dst_crs=target.crs,
            src_nodata=np.nan,
            dst_nodata=np.nan,
            resampling=Resampling.average if finer else Resampling.bilinear,
        )
        out.append(dst)
    return out[0], out[1]


def slope_deg(dz_east: np.ndarray, dz_north: np.ndarray) -> np.ndarray:
    """Slope angle in degrees from the gradient."""
    return np.degrees(np.arctan(np.hypot(dz_east, dz_north)))


def downhill_azimuth_deg(dz_east: np.ndarray | float, dz_north: np.ndarray | float) -> np.ndarray:
    """Aspect: azimuth of the steepest descent, degrees clockwise from north (GIS convention)."""
    return np.mod(np.degrees(np.arctan2(-np.asarray(dz_east), -np.asarray(dz_north))), 360.0)
