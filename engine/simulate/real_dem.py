"""Real DEMs that install offline with Debian's matplotlib data, as georeferenced arrays."""

from __future__ import annotations

import os

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from ..errors import GeohazardError
from ..raster_io import Grid

MPL_SAMPLE_DATA = "/usr/share/matplotlib/mpl-data/sample_data"


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
    raise GeohazardError(
        f"The sample DEM {name} was not found (install Debian's python3-matplotlib or matplotlib)."
    )


def jacksboro_dem() -> tuple[np.ndarray, Grid]:
    """The Jacksboro fault DEM (Tennessee, USA): 344 x 403 px, 3 arc-second, 236-1076 m.

    Returns the elevation in metres (float32) and its EPSG:4326 grid. Row 0 is the north edge.
    """
    data = np.load(_sample_file("jacksboro_fault_dem.npz"))
    z = data["elevation"].astype(np.float32)
    res = float(data["dx"])
    west = float(data["xmin"])
    north = max(float(data["ymin"]), float(data["ymax"]))  # the file's y labels are swapped
    transform = Affine(res, 0.0, west, 0.0, -res, north)
    return z, Grid(CRS.from_epsg(4326), transform, z.shape[1], z.shape[0])


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
        edges = [np.isnan(crop[0]).sum(), np.isnan(crop[-1]).sum(), np.isnan(crop[:, 0]).sum(), np.isnan(crop[:, -1]).sum()]
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
