"""Seeded SAR-like test rasters with known displacement, written as real GeoTIFFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from affine import Affine
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.simulate import sar_amplitude
from rasterio.crs import CRS
from scipy import ndimage

UTM33 = CRS.from_epsg(32633)


def scene(shape: tuple[int, int], seed: int = 1) -> np.ndarray:
    """A textured mean-brightness scene (smooth land-cover variation)."""
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(np.exp(0.3 * rng.standard_normal(shape)), 3).astype(np.float32)


def utm_grid(
    shape: tuple[int, int], pixel: float = 10.0, x0: float = 500000.0, y0: float = 4000000.0
) -> Grid:
    return Grid(UTM33, Affine(pixel, 0, x0, 0, -pixel, y0), shape[1], shape[0])


def write_pair(
    folder: Path,
    dy: np.ndarray,
    dx: np.ndarray,
    grid: Grid | None = None,
    looks: int = 4,
    coherence: float = 0.9,
    seed: int = 3,
) -> tuple[str, str]:
    """Reference and secondary amplitude GeoTIFFs for a displacement field in pixels."""
    shape = dy.shape
    grid = grid or utm_grid(shape)
    ref, sec = sar_amplitude.speckled_pair(
        scene(shape, seed), dy, dx, looks=looks, coherence=coherence, seed=seed
    )
    a, b = str(folder / "reference.tif"), str(folder / "secondary.tif")
    write_raster(a, ref[None], grid, ["amplitude"])
    write_raster(b, sec[None], grid, ["amplitude"])
    return a, b
