"""Seeded DEM GeoTIFFs for the super-resolution tests (projected UTM and geographic grids)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from affine import Affine
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.raster_io import Grid, write_raster
from rasterio.crs import CRS


def utm_dem(
    path: Path, shape: tuple[int, int] = (64, 80), seed: int = 3, pixel: float = 30.0
) -> str:
    """Fractal terrain on a 30 m UTM 33N grid, written as float32 GeoTIFF."""
    dem = fractal_terrain(shape, seed, TerrainConfig(relief_m=600.0, base_m=900.0))
    grid = Grid(
        CRS.from_epsg(32633),
        Affine(pixel, 0, 500_000.0, 0, -pixel, 4_650_000.0),
        shape[1],
        shape[0],
    )
    return write_raster(str(path), dem[None], grid, ["elevation (m)"])


def geographic_dem(path: Path, shape: tuple[int, int] = (48, 64), seed: int = 5) -> str:
    """Fractal terrain on a 1 arc-second EPSG:4326 grid."""
    dem = fractal_terrain(shape, seed, TerrainConfig(relief_m=300.0, base_m=100.0))
    d = 1.0 / 3600
    grid = Grid(CRS.from_epsg(4326), Affine(d, 0, 7.5, 0, -d, 46.2), shape[1], shape[0])
    return write_raster(str(path), dem[None], grid, ["elevation (m)"])


def read(path: str) -> tuple[np.ndarray, object, object]:
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1), src.transform, src.crs
