"""Seeded displacement rasters with known moving lobes, and a tilted-plane DEM under them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from affine import Affine
from geohazard.engine.io.raster_io import Grid, write_raster
from rasterio.crs import CRS

PX = 10.0  # metres per pixel of the displacement grid
SHAPE = (120, 120)
ORIGIN = (500_000.0, 4_650_000.0)
UTM = CRS.from_epsg(32633)


def disp_grid(shape: tuple[int, int] = SHAPE, px: float = PX) -> Grid:
    return Grid(UTM, Affine(px, 0, ORIGIN[0], 0, -px, ORIGIN[1]), shape[1], shape[0])


def lobe_masks(shape: tuple[int, int] = SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """Lobe A: disk of radius 15 px at (row 40, col 40); lobe B: rows 70-99, cols 60-99."""
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]]
    a = (rr - 40) ** 2 + (cc - 40) ** 2 <= 15**2
    b = (rr >= 70) & (rr < 100) & (cc >= 60) & (cc < 100)
    return a, b


def two_lobes(
    path: Path,
    bands: int = 6,
    units: str = "m",
    seed: int = 4,
) -> str:
    """Lobe A moves 2 (units) east, lobe B 1 (units) west; background noise 0.05; sigma 0.1.

    Extras that the algorithm must clean: a hole of NaN pixels inside lobe B (filled), a 2 x 2
    moving speck (400 m2, under a 1000 m2 minimum area), and a 6 x 6 patch moving 1 (units)
    north with 2 (units) uncertainty (dropped by the uncertainty mask when sigmas exist).
    """
    rng = np.random.default_rng(seed)
    east = rng.normal(0, 0.05, SHAPE)
    north = rng.normal(0, 0.05, SHAPE)
    a, b = lobe_masks()
    east[a] += 2.0
    east[b] -= 1.0
    sigma = np.full(SHAPE, 0.1)
    east[5:7, 100:102] += 1.5  # speck
    north[10:16, 80:86] += 1.0  # uncertain patch
    sigma[10:16, 80:86] = 2.0
    mag = np.hypot(east, north)
    quality = np.where(a | b, 0.6, 0.9)
    for arr in (east, north, mag, quality):
        arr[84:87, 78:81] = np.nan  # hole in lobe B
    stack = [east, north, mag, quality, sigma / np.sqrt(2), sigma / np.sqrt(2)][:bands]
    kind = "velocity" if "/" in units else "offset"
    names = [
        f"east {kind} ({units})",
        f"north {kind} ({units})",
        f"magnitude ({units})",
        "quality (peak NCC)",
        f"east 1-sigma uncertainty ({units})",
        f"north 1-sigma uncertainty ({units})",
    ][:bands]
    return write_raster(str(path), np.stack(stack).astype(np.float32), disp_grid(), names)


def uniform(path: Path, east: float, north: float, shape: tuple[int, int] = (40, 60)) -> str:
    """Every pixel moves by (east, north) m; 6 bands."""
    e = np.full(shape, east)
    n = np.full(shape, north)
    stack = [e, n, np.hypot(e, n), np.full(shape, 0.8), np.full(shape, 0.1), np.full(shape, 0.1)]
    names = ["east offset (m)", "north offset (m)", "magnitude (m)", "quality (peak NCC)"]
    names += ["east 1-sigma uncertainty (m)", "north 1-sigma uncertainty (m)"]
    grid = disp_grid(shape)
    return write_raster(str(path), np.stack(stack).astype(np.float32), grid, names)


def tilted_dem(path: Path, gradient_east: float = -0.2, px: float = 5.0) -> str:
    """A plane falling eastwards (downhill azimuth 90 deg) on a 5 m grid covering the lobes."""
    rows = int(SHAPE[0] * PX / px)
    cols = int(SHAPE[1] * PX / px)
    x = (np.arange(cols) + 0.5) * px
    z = 1000.0 + gradient_east * np.broadcast_to(x, (rows, cols))
    grid = Grid(UTM, Affine(px, 0, ORIGIN[0], 0, -px, ORIGIN[1]), cols, rows)
    return write_raster(str(path), z[None].astype(np.float32), grid, ["elevation (m)"])
