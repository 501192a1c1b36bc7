"""The demo scene: a SAR-like amplitude pair over a real DEM with a known landslide motion.

The Jacksboro fault DEM (real, 3 arc-second, shipped with Debian's matplotlib) is reprojected to
UTM at 30 m; a lobate landslide body is placed on the steepest part of the terrain, moving
downslope; amplitude images are simulated from the DEM's local incidence angle with 4-look
speckle and 90% speckle coherence, the secondary moved by the landslide field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..io.raster_io import Grid, write_raster
from . import displacement, sar_amplitude
from .real_dem import jacksboro_dem_utm


@dataclass
class LandslideScene:
    dem: np.ndarray
    grid: Grid
    reference: np.ndarray
    secondary: np.ndarray
    dy: np.ndarray  # true displacement, pixels (down)
    dx: np.ndarray  # true displacement, pixels (right)

    def true_east_north(self) -> tuple[np.ndarray, np.ndarray]:
        """True displacement in metres east and north on the image grid."""
        t = self.grid.transform
        return (t.a * self.dx + t.b * self.dy), (t.d * self.dx + t.e * self.dy)


def landslide_scene(seed: int = 7, pixel_size: float = 30.0, max_px: float = 2.0) -> LandslideScene:
    dem, grid = jacksboro_dem_utm(pixel_size)
    gy, gx = np.gradient(ndimage.gaussian_filter(dem.astype(np.float64), 8), pixel_size)
    slope = np.hypot(gx, gy)
    margin = 160
    inner = np.zeros_like(slope, dtype=bool)
    inner[margin:-margin, margin:-margin] = True
    r, c = np.unravel_index(np.argmax(np.where(inner, slope, -1)), slope.shape)
    # downslope azimuth (clockwise from north); rows grow southwards so north gradient is -gy
    downslope = float(np.rad2deg(np.arctan2(-gx[r, c], gy[r, c])) % 360)
    dy, dx = displacement.landslide_field(
        (dem.shape[0], dem.shape[1]), (float(r), float(c)), (110.0, 70.0), downslope, max_px
    )
    refl = sar_amplitude.backscatter(dem, pixel_size, seed)
    ref, sec = sar_amplitude.speckled_pair(refl, dy, dx, looks=4, coherence=0.9, seed=seed)
    return LandslideScene(dem, grid, ref, sec, dy, dx)


def write_landslide_scene(folder: str, scene: LandslideScene | None = None) -> dict[str, str]:
    """Write dem.tif, reference.tif, secondary.tif and true_displacement.tif into ``folder``."""
    sc = scene or landslide_scene()
    os.makedirs(folder, exist_ok=True)
    paths = {
        name: os.path.join(folder, f"{name}.tif")
        for name in ("dem", "reference", "secondary", "true_displacement")
    }
    write_raster(paths["dem"], sc.dem[None], sc.grid, ["elevation (m)"])
    write_raster(paths["reference"], sc.reference[None], sc.grid, ["amplitude"])
    write_raster(paths["secondary"], sc.secondary[None], sc.grid, ["amplitude"])
    east, north = sc.true_east_north()
    write_raster(
        paths["true_displacement"],
        np.stack([east, north, np.hypot(east, north)]).astype(np.float32),
        sc.grid,
        ["true east displacement (m)", "true north displacement (m)", "true magnitude (m)"],
    )
    return paths
