"""Displacement arrows: points on a regular spacing with the mean displacement around each.

Each point sits at the centre of a SPACING x SPACING square cell (map units) of a lattice
anchored at the raster's top-left corner; its values are the means of the finite pixels whose
centres fall in the cell (east and north averaged as a vector). Azimuth is degrees clockwise
from grid north (north up: 0 north, 90 east, 180 south, 270 west).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from .field import azimuth_deg, read_displacement

FIELDS: tuple[tuple[str, str], ...] = (
    ("magnitude", "double"),
    ("azimuth", "double"),
    ("east", "double"),
    ("north", "double"),
    ("sigma", "double"),
    ("quality", "double"),
    ("units", "string"),
)

MAX_POINTS = 1_000_000


@dataclass
class DisplacementArrows:
    """Result: point coordinates (map units of the raster's CRS) and attributes (FIELDS)."""

    points: list[tuple[float, float]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    units: str = "m"
    crs_wkt: str | None = None


def _cell_means(values: np.ndarray, cells: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Mean of the finite ``values`` per cell (``cells``: flat cell index of each value)."""
    flat = values.ravel()
    finite = np.isfinite(flat)
    size = shape[0] * shape[1]
    sums = np.bincount(cells[finite], weights=flat[finite], minlength=size)
    counts = np.bincount(cells[finite], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return means.reshape(shape)


def displacement_arrows(
    input_path: str,
    spacing: float,
    min_magnitude: float = 0.0,
    reporter: Reporter | None = None,
) -> DisplacementArrows:
    """Arrow points sampled from a displacement raster every ``spacing`` map units.

    Args:
        input_path: displacement raster (east, north, magnitude, quality[, sigma E, N]).
        spacing: distance between points in the raster's map units (> 0).
        min_magnitude: points whose mean magnitude is below this (raster units) are left out.
        reporter: progress and log callbacks.
    """
    rep = reporter or Reporter()
    if not math.isfinite(spacing) or spacing <= 0:
        raise GeohazardError("The arrow spacing must be a positive distance in map units.")
    disp = read_displacement(input_path)
    grid = disp.grid
    left, bottom, right, top = grid.bounds
    ncols = max(1, math.ceil((right - left) / spacing))
    nrows = max(1, math.ceil((top - bottom) / spacing))
    if ncols * nrows > MAX_POINTS:
        raise GeohazardError(
            f"A spacing of {spacing:g} map units gives {ncols * nrows} points; choose a larger "
            f"spacing (at most {MAX_POINTS} points)."
        )
    t = grid.transform
    xs = t.c + t.a * (np.arange(grid.width) + 0.5)  # pixel centres (north-up grid)
    ys = t.f + t.e * (np.arange(grid.height) + 0.5)
    cell_c = np.clip(((xs - left) // spacing).astype(np.int64), 0, ncols - 1)
    cell_r = np.clip(((top - ys) // spacing).astype(np.int64), 0, nrows - 1)
    cells = (cell_r[:, None] * ncols + cell_c[None, :]).ravel()
    shape = (nrows, ncols)
    east = _cell_means(disp.east, cells, shape)
    north = _cell_means(disp.north, cells, shape)
    quality = _cell_means(disp.quality, cells, shape)
    sigma = (
        _cell_means(disp.sigma, cells, shape) if disp.sigma is not None else np.full(shape, np.nan)
    )
    rep.report(0.7)
    magnitude = np.hypot(east, north)
    azimuth = azimuth_deg(east, north)
    result = DisplacementArrows(units=disp.units, crs_wkt=grid.crs.to_wkt() if grid.crs else None)
    for r, c in zip(*np.nonzero(np.isfinite(magnitude) & (magnitude >= min_magnitude))):
        result.points.append((left + (c + 0.5) * spacing, top - (r + 0.5) * spacing))
        result.attributes.append(
            {
                "magnitude": float(magnitude[r, c]),
                "azimuth": float(azimuth[r, c]),
                "east": float(east[r, c]),
                "north": float(north[r, c]),
                "sigma": float(sigma[r, c]),
                "quality": float(quality[r, c]),
                "units": disp.units,
            }
        )
    rep.info(f"{len(result.points)} arrow(s) every {spacing:g} map units.")
    rep.report(1.0)
    return result
