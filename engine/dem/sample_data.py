"""Real DEMs that install offline, written as georeferenced GeoTIFFs.

- Jacksboro fault, Tennessee: USGS DEM shipped with matplotlib (344 x 403, int16 metres,
  3 arc-second grid, lon -84.41375..-84.07792, lat 36.44625..36.73292, EPSG:4326).
- Topography/bathymetry off British Columbia (topobathy.npz, 91 x 120, 2 arc-minute).

The split used for the bundled super-resolution models keeps one rugged block of Jacksboro out
of training (``JACKSBORO_TEST``) and another for validation (``JACKSBORO_VALIDATION``).
"""

from __future__ import annotations

import os

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ..io.raster_io import Grid, write_raster

MPL_SAMPLE_DATA = "/usr/share/matplotlib/mpl-data/sample_data"

# (row0, row1, col0, col1) blocks of the Jacksboro grid, in pixels.
JACKSBORO_TEST = (216, 344, 0, 160)
JACKSBORO_VALIDATION = (0, 96, 283, 403)


def _sample_file(name: str) -> str:
    candidates = [os.path.join(MPL_SAMPLE_DATA, name)]
    try:
        import matplotlib

        candidates.append(os.path.join(matplotlib.get_data_path(), "sample_data", name))
    except ImportError:
        pass
    for path in candidates:
        if os.path.exists(path):
            return path
    raise FileNotFoundError(
        f"{name} not found (install matplotlib's sample data, Debian python3-matplotlib)"
    )


def jacksboro_dem() -> tuple[np.ndarray, Grid]:
    """The Jacksboro fault DEM as float32 metres and its EPSG:4326 grid (north up)."""
    with np.load(_sample_file("jacksboro_fault_dem.npz")) as data:
        elevation = data["elevation"].astype(np.float32)
        dx, dy = float(data["dx"]), float(data["dy"])
        west = float(data["xmin"])
        # The file labels the northern edge 'ymin'; its rows run north to south.
        north = max(float(data["ymin"]), float(data["ymax"]))
    rows, cols = elevation.shape
    grid = Grid(CRS.from_epsg(4326), Affine(dx, 0.0, west, 0.0, -dy, north), cols, rows)
    return elevation, grid


def topobathy_dem() -> tuple[np.ndarray, Grid]:
    """The topobathy grid as float32 metres (negative below sea level) and its grid."""
    with np.load(_sample_file("topobathy.npz")) as data:
        topo = data["topo"].astype(np.float32)
        lon = data["longitude"].astype(np.float64)
        lat = data["latitude"].astype(np.float64)
    if lat[0] < lat[-1]:
        topo, lat = topo[::-1].copy(), lat[::-1]
    dx = float(lon[1] - lon[0])
    dy = float(lat[0] - lat[1])
    west = float(lon[0]) - 360.0 - dx / 2 if lon[0] > 180 else float(lon[0]) - dx / 2
    north = float(lat[0]) + dy / 2
    rows, cols = topo.shape
    return topo, Grid(CRS.from_epsg(4326), Affine(dx, 0.0, west, 0.0, -dy, north), cols, rows)


def block(
    array: np.ndarray, grid: Grid, rows_cols: tuple[int, int, int, int]
) -> tuple[np.ndarray, Grid]:
    """A sub-block of an array and its grid."""
    r0, r1, c0, c1 = rows_cols
    transform = grid.transform * Affine.translation(c0, r0)
    return array[r0:r1, c0:c1].copy(), Grid(grid.crs, transform, c1 - c0, r1 - r0)


def write_jacksboro(path: str, rows_cols: tuple[int, int, int, int] | None = None) -> str:
    """Write the Jacksboro DEM (or one block of it) as a float32 GeoTIFF in EPSG:4326."""
    dem, grid = jacksboro_dem()
    if rows_cols is not None:
        dem, grid = block(dem, grid, rows_cols)
    return write_raster(path, dem[None], grid, ["elevation (m)"])
