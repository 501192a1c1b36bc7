"""Metres on the ground for raster grids: metres per degree, per-row pixel sizes, grid north.

Geographic grids (degrees) are converted with the local metres per degree of the WGS84
ellipsoid at each row's latitude; projected grids with the CRS's linear unit. Grid north of a
projected grid differs from true north by the meridian convergence (up to a few degrees in UTM),
which matters for anything defined by an azimuth such as a satellite heading.
"""

from __future__ import annotations

import math

import numpy as np
from rasterio.warp import transform as warp_transform

from ..core.errors import GeohazardError
from .raster_io import Grid


def metres_per_degree(lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres per degree of longitude and latitude on the WGS84 ellipsoid (series expansion)."""
    phi = np.deg2rad(lat_deg)
    per_lat = 111132.92 - 559.82 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)
    per_lon = 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi)
    return per_lon, per_lat


def check_north_up(grid: Grid, name: str) -> None:
    """Refuse grids that are rotated or sheared, or have no CRS (their metres are unknown)."""
    if grid.crs is None:
        raise GeohazardError(
            f"'{name}' has no coordinate reference system, so its pixel size in metres is "
            "unknown; assign its CRS (Raster > Projections > Assign Projection) first."
        )
    check_not_rotated(grid, name)


def check_not_rotated(grid: Grid, name: str) -> None:
    """Refuse grids that are rotated or sheared (their rows and columns are not east and north)
    or have a zero pixel size."""
    t = grid.transform
    if abs(t.b) > 1e-12 * abs(t.a) or abs(t.d) > 1e-12 * abs(t.e):
        raise GeohazardError(
            f"'{name}' is on a rotated or sheared grid; warp it to a north-up grid "
            "(Raster > Projections > Warp) first."
        )
    if t.a == 0 or t.e == 0:
        raise GeohazardError(f"'{name}' has a zero pixel size in its georeferencing.")


def row_metres(grid: Grid, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed metres east per column step and metres north per row step, for each row.

    A north-up grid has a positive first value and a negative second one (rows run south).
    """
    t = grid.transform
    rows = np.asarray(rows, dtype=np.float64)
    if grid.crs is None:
        raise GeohazardError("The raster has no CRS, so north and metres cannot be known.")
    if grid.crs.is_geographic:
        lat = t.f + t.e * (rows + 0.5)
        per_lon, per_lat = metres_per_degree(lat)
        return t.a * per_lon, t.e * per_lat
    factor = 1.0
    if grid.crs.linear_units_factor:
        factor = float(grid.crs.linear_units_factor[1])
    ones = np.ones_like(rows)
    return t.a * factor * ones, t.e * factor * ones


def true_north_azimuth(grid: Grid) -> float:
    """Azimuth of true north measured clockwise from grid north at the grid's centre (degrees).

    Zero on geographic grids; the meridian convergence on projected ones. A true azimuth A
    points along grid azimuth ``A + true_north_azimuth(grid)``.
    """
    if grid.crs is None:
        raise GeohazardError("The raster has no CRS, so north and metres cannot be known.")
    if grid.crs.is_geographic:
        return 0.0
    left, bottom, right, top = grid.bounds
    x, y = (left + right) / 2.0, (bottom + top) / 2.0
    try:
        lon, lat = warp_transform(grid.crs, "EPSG:4326", [x], [y])
        lat2 = min(lat[0] + 0.01, 89.99)
        xs, ys = warp_transform("EPSG:4326", grid.crs, [lon[0], lon[0]], [lat[0], lat2])
    except Exception:  # a CRS without a geographic base: assume grid north is true north
        return 0.0
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    if not (math.isfinite(dx) and math.isfinite(dy)) or (dx == 0 and dy == 0):
        return 0.0
    return math.degrees(math.atan2(dx, dy))
