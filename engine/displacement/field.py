"""Reading a displacement raster of either tracker (offsets in m or velocities in m/yr).

Band layout (DESIGN.md): 1 east, 2 north, 3 magnitude, 4 quality, and, when present, 5 east and
6 north 1-sigma uncertainty. The classical tracker wrote 4 bands before it gained the sigmas, so
both layouts are read. Units come from the band descriptions the trackers write, e.g.
"magnitude (m)" or "east velocity (m/yr)", or from a ``UNITS`` tag; "m" when neither says.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from ..core.errors import GeohazardError
from ..io.geodesy import check_north_up, row_metres
from ..io.raster_io import Grid, damaged
from ..io.run_estimate import check_memory

# Bytes per pixel a whole displacement raster takes while it is analysed: up to six bands read
# as float32 with their masks and filled copies, the sigma, and the analysis' own arrays (labels,
# masks, per-cell sums).
WORK_BYTES_PER_PIXEL = 128

_UNITS = re.compile(r"\(([^()]*)\)\s*$")


@dataclass
class DisplacementField:
    """The bands of a displacement raster as float arrays, NaN where no value.

    Attributes:
        east, north, magnitude, quality: bands 1-4 (units of ``units``; quality as written).
        sigma: 1-sigma uncertainty of the displacement vector, hypot of bands 5 and 6, or None
            when the raster has only 4 bands.
        units: "m" for offsets, "m/yr" for velocities (as the raster says).
        grid: georeferencing of the bands.
        sigma_east, sigma_north: bands 5 and 6 (None for a 4-band raster).
    """

    east: np.ndarray
    north: np.ndarray
    magnitude: np.ndarray
    quality: np.ndarray
    sigma: np.ndarray | None
    units: str
    grid: Grid
    sigma_east: np.ndarray | None = None
    sigma_north: np.ndarray | None = None

    def pixel_area_m2(self) -> np.ndarray:
        """Ground area of each row's pixels in square metres (shape (rows, 1))."""
        dx, dy = row_metres(self.grid, np.arange(self.grid.height))
        return np.abs(dx * dy)[:, None]


def raster_units(descriptions: tuple[str | None, ...], tags: dict[str, str]) -> str:
    """The displacement units a tracker wrote: the UNITS tag, else the magnitude band's
    "(...)" suffix, else the east band's; "m" when none says."""
    if tags.get("UNITS"):
        return tags["UNITS"].strip()
    for index in (2, 0):
        if index < len(descriptions) and descriptions[index]:
            found = _UNITS.search(descriptions[index] or "")
            if found:
                return found.group(1).strip()
    return "m"


def read_displacement(path: str) -> DisplacementField:
    """Read a displacement raster; refuses rasters with fewer than 4 bands or no CRS."""
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise GeohazardError(f"The displacement raster '{path}' does not exist.")
    try:
        with rasterio.open(path) as src:
            if src.count < 4:
                raise GeohazardError(
                    f"'{name}' has {src.count} band(s); a displacement raster has at least 4 "
                    "(east, north, magnitude, quality), as offset tracking writes."
                )
            grid = Grid(src.crs, src.transform, src.width, src.height)
            check_north_up(grid, name)
            check_memory(
                WORK_BYTES_PER_PIXEL * grid.width * grid.height,
                f"the {grid.width} x {grid.height} px of '{name}'",
                "clip the displacement raster to the area of interest.",
            )
            bands = src.read(list(range(1, min(src.count, 6) + 1)), masked=True)
            data = np.ma.filled(bands.astype("float32"), np.nan)
            units = raster_units(tuple(src.descriptions), src.tags())
    except RasterioIOError as exc:
        raise damaged(path) from exc
    if data.shape[0] >= 6:
        return DisplacementField(
            data[0],
            data[1],
            data[2],
            data[3],
            np.hypot(data[4], data[5]),
            units,
            grid,
            data[4],
            data[5],
        )
    return DisplacementField(data[0], data[1], data[2], data[3], None, units, grid)


def azimuth_deg(east: np.ndarray | float, north: np.ndarray | float) -> np.ndarray:
    """Azimuth of a vector in degrees clockwise from (grid) north, in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(east, north)), 360.0)
