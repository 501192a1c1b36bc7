"""One rule for elevations no DEM can hold, shared by every algorithm that reads a DEM.

Software that writes -3.4028235e38 (float32's lowest value) or -32768 as nodata sometimes leaves
out the nodata tag, and a corrupt pixel can hold 3.4e38. One such value turns a super-resolved
tile, a metric or a phase into garbage, and an infinity ends a run. Infinities and values below
-15000 or above 30000 are impossible in metres (the Mariana Trench is -10994 m, Everest 8849 m)
and in feet (Everest is 29032 ft), so they become nodata, and the user is told how many there
were. Bathymetry in feet deeper than
15000 ft (4572 m) would be caught too; such DEMs must be converted to metres first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import GeohazardError
from ..core.progress import Reporter

MIN_ELEVATION = -15000.0
MAX_ELEVATION = 30000.0


# Fewest pixels along each side of a DEM: slopes are measured over 3 x 3 px.
MIN_DEM_SIDE = 3


def impossible_mask(values: np.ndarray) -> np.ndarray:
    """True where a value is not nodata (NaN) but no elevation either: infinite, or outside
    [MIN_ELEVATION, MAX_ELEVATION]."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(values) & ~((values >= MIN_ELEVATION) & (values <= MAX_ELEVATION))


def check_dem_size(
    width: int,
    height: int,
    name: str,
    minimum: int = MIN_DEM_SIDE,
    why: str = "slopes are measured over 3 x 3 px",
) -> None:
    """Refuse a DEM with fewer than ``minimum`` pixels along a side (``why`` says what needs
    them), before anything is computed."""
    if width < minimum or height < minimum:
        raise GeohazardError(
            f"'{name}' is {width} x {height} px; a DEM here needs at least {minimum} x {minimum} "
            f"px ({why}). Nothing was computed."
        )


@dataclass
class ElevationGuard:
    """Turns impossible elevations into NaN in everything read from one DEM, and counts them.

    Args:
        name: the DEM's file name, used in the warning.

    Use :meth:`clean` on each array read (float, NaN = nodata), then :meth:`warn` once at the
    end of the run. When reads overlap (tiles with overlap), pass ``counted`` with the part of
    the array no earlier read covered, so each pixel is counted once.
    """

    name: str
    count: int = 0
    lowest: float = field(default=float("inf"))
    highest: float = field(default=float("-inf"))

    @classmethod
    def for_path(cls, path: str) -> ElevationGuard:
        return cls(os.path.basename(path))

    def clean(self, values: np.ndarray, counted: tuple[slice, ...] | None = None) -> np.ndarray:
        """``values`` with impossible elevations set to NaN (in place for float arrays)."""
        bad = impossible_mask(values)
        if not bad.any():
            return values
        region = bad if counted is None else bad[counted]
        if region.any():
            picked = values[counted][region] if counted is not None else values[bad]
            self.count += int(region.sum())
            self.lowest = min(self.lowest, float(picked.min()))
            self.highest = max(self.highest, float(picked.max()))
        out = values if values.dtype.kind == "f" else values.astype(np.float32)
        out[bad] = np.nan
        return out

    def reset(self) -> None:
        """Forget the counts (a run that starts again reads every pixel again)."""
        self.count, self.lowest, self.highest = 0, float("inf"), float("-inf")

    def message(self) -> str | None:
        """The warning sentence, or None when nothing was found."""
        if not self.count:
            return None
        extremes = (
            f"{self.lowest:.6g}"
            if self.lowest == self.highest
            else f"from {self.lowest:.6g} to {self.highest:.6g}"
        )
        return (
            f"'{self.name}': {self.count} pixel{'s' if self.count != 1 else ''} held values no "
            f"DEM can hold ({extremes}; elevations must lie between {MIN_ELEVATION:.0f} and "
            f"{MAX_ELEVATION:.0f} in metres or feet) and were treated as nodata. They are "
            "probably an undeclared nodata value; set the raster's nodata value to remove this "
            "warning."
        )

    def warn(self, reporter: Reporter) -> None:
        """Tell the user how many impossible values were found (nothing when none)."""
        text = self.message()
        if text:
            reporter.warning(text)


def unseen(starts: Sequence[int], index: int, size: int) -> slice:
    """The part of tile ``index`` (along one axis) that no earlier tile covered.

    For tiles of ``size`` starting at ``starts`` (sorted, overlapping), read in order, the
    regions ``unseen(rows, i, h) x unseen(cols, j, w)`` of tiles (i, j) partition the raster, so
    counting only there counts each pixel once (pass them as ``counted`` to
    :meth:`ElevationGuard.clean`).
    """
    if index == 0:
        return slice(0, size)
    return slice(max(0, starts[index - 1] + size - starts[index]), size)
