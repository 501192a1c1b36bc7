"""The data recipe of the bundled DEM super-resolution models (used by scripts/train_dem_sr.py).

- Stage 1 images: the natural photographs shipped with scikit-image and matplotlib, or a folder.
- Stage 2 DEMs: the Jacksboro DEM outside its held-out test and validation blocks (with a 4 px
  buffer), the topobathy grid, the real DEMs of :data:`TERRAIN` whose role is ``train`` (fetched
  offline by scripts/fetch_real_data.py; whole regions), user GeoTIFFs if given, and seeded
  fractal terrain. A share of the pairs is degraded like a coarser sensor (Gaussian blur, then
  block means) instead of block means alone.
- Validation: the Jacksboro validation block and a block of the Sierra Nevada DEM kept out of
  training. Test (reported in the card, per DEM and terrain kind): the DEMs whose role is
  ``test`` (whole regions never used in training or selection) and the Jacksboro test block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...dem.dem_metrics import compare_dems, grid_pixel_m
from ...dem.sample_data import (
    JACKSBORO_TEST,
    JACKSBORO_VALIDATION,
    block,
    jacksboro_dem,
    topobathy_dem,
)
from ...dem.spline_upsample import spline_bp_upsample
from ...dem.terrain import random_terrain
from ...io.raster_io import Grid, inspect_raster, open_band
from ...simulate.real_sources import local_path
from .card import super_resolve_array
from .degrade import block_mean, gdal_upsample, sensor_degrade
from .natural_images import load_gray
from .patches import PatchSampler, PatchSource
from .training import ValidationSet

BUFFER_PX = 4
FRACTAL_TILES = 16
FRACTAL_SIZE = 256
SENSOR_SHARE = 0.3  # share of training pairs degraded by blur + block mean
SIERRA_VALIDATION = (0, 384, 0, 384)  # rows/cols of the Sierra Nevada DEM kept for validation


@dataclass(frozen=True)
class TerrainDem:
    """A real DEM of the recipe: REAL_FILES key, terrain kind, role, optional crop and weight."""

    key: str
    terrain: str
    role: str  # train or test
    label: str
    crop: tuple[int, int, int, int] | None = None
    weight: float = 0.1


TERRAIN: tuple[TerrainDem, ...] = (
    TerrainDem("srtm_turkey", "mountains", "train", "eastern Turkey, SRTM 90 m"),
    TerrainDem(
        "srtm_sierra_nevada",
        "mountains",
        "train",
        "Sierra Nevada, SRTM 90 m",
        (0, 1400, 0, 1400),
    ),
    TerrainDem("colorado_10m", "high mountains", "train", "Colorado, 10 m"),
    TerrainDem(
        "copernicus_grenoble", "mountains", "test", "Alps near Grenoble, Copernicus DEM (~150 m)"
    ),
    TerrainDem(
        "philondenx_1m",
        "farmland, 1 m",
        "test",
        "Philondenx farmland, 1 m surface model (shareloc)",
    ),
    TerrainDem("rome_30m", "low hills and city", "test", "Rome, 30 m DEM (sarsen)"),
    TerrainDem(
        "gironde_coast",
        "coast",
        "test",
        "Gironde estuary, topo-bathymetry (~100 m)",
        (200, 840, 200, 840),
    ),
)
DEFAULT_DATA_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))), ".data", "real"
)


def read_dem(path: str) -> tuple[np.ndarray, Grid]:
    """A one-band DEM as float32 metres with NaN nodata, and its grid."""
    from ...io.dem_values import impossible_mask

    info = inspect_raster(path)
    with open_band(info, 1) as reader:
        arr = reader.read().astype(np.float32)
    arr[impossible_mask(arr)] = np.nan
    return arr, info.grid


def terrain_dem(entry: TerrainDem, data_dir: str) -> tuple[np.ndarray, Grid]:
    """The DEM of a recipe entry (cropped when the entry says so)."""
    path = local_path(data_dir, entry.key)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{path} is missing: run scripts/fetch_real_data.py {data_dir} first"
        )
    arr, grid = read_dem(path)
    if entry.crop is not None:
        arr, grid = block(arr, grid, entry.crop)
    return arr, grid


def image_sources(paths: list[str]) -> list[PatchSource]:
    return [PatchSource(load_gray(p), name=p.rsplit("/", 1)[-1]) for p in paths]


def dem_sources(
    extra: list[tuple[np.ndarray, str]] | None = None,
    seed: int = 0,
    data_dir: str | None = None,
) -> list[PatchSource]:
    dem, _ = jacksboro_dem()
    allowed = np.ones(dem.shape, bool)
    for r0, r1, c0, c1 in (JACKSBORO_TEST, JACKSBORO_VALIDATION):
        allowed[
            max(r0 - BUFFER_PX, 0) : r1 + BUFFER_PX, max(c0 - BUFFER_PX, 0) : c1 + BUFFER_PX
        ] = False
    sources = [PatchSource(dem, allowed, 0.45, "jacksboro (train part)")]
    topo, _ = topobathy_dem()
    sources.append(PatchSource(topo, None, 0.10, "topobathy"))
    for arr, name in extra or []:
        sources.append(PatchSource(arr, None, 0.25, name))
    fractal_weight = 0.45
    if data_dir is not None:
        for entry in TERRAIN:
            if entry.role != "train":
                continue
            arr, _ = terrain_dem(entry, data_dir)
            mask: np.ndarray | None = None
            if entry.key == "srtm_sierra_nevada":
                mask = np.ones(arr.shape, bool)
                r0, r1, c0, c1 = SIERRA_VALIDATION
                mask[r0 : r1 + BUFFER_PX, c0 : c1 + BUFFER_PX] = False
            sources.append(PatchSource(arr, mask, entry.weight, entry.label))
        fractal_weight = 0.15
    for i in range(FRACTAL_TILES):
        terrain = random_terrain((FRACTAL_SIZE, FRACTAL_SIZE), seed=10_000 + seed * 100 + i)
        sources.append(PatchSource(terrain, None, fractal_weight / FRACTAL_TILES, f"fractal {i}"))
    return sources


def samplers(
    image_paths: list[str],
    hr_patch: int,
    scale: int,
    bins: int,
    extra: list[tuple[np.ndarray, str]] | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    sensor_share: float = 0.0,
) -> dict[str, Any]:
    images = image_sources(image_paths)
    dems = dem_sources(extra, seed, data_dir)
    return {
        "images": lambda s: PatchSampler(images, hr_patch, scale, s, elevation_bins=1),
        "dems": lambda s: PatchSampler(
            dems, hr_patch, scale, s, elevation_bins=bins, sensor_share=sensor_share
        ),
    }


def validation_set(data_dir: str | None = None) -> ValidationSet:
    dem, grid = jacksboro_dem()
    arr, g = block(dem, grid, JACKSBORO_VALIDATION)
    arrays, pixels = [arr], [grid_pixel_m(g)]
    if data_dir is not None:
        entry = next(e for e in TERRAIN if e.key == "srtm_sierra_nevada")
        sierra, sgrid = terrain_dem(entry, data_dir)
        varr, vgrid = block(sierra, sgrid, SIERRA_VALIDATION)
        arrays.append(varr)
        pixels.append(grid_pixel_m(vgrid))
    return ValidationSet(arrays, pixels)


def test_block() -> tuple[np.ndarray, Grid]:
    dem, grid = jacksboro_dem()
    return block(dem, grid, JACKSBORO_TEST)


def test_sets(data_dir: str | None) -> list[tuple[str, str, np.ndarray, Grid]]:
    """(label, terrain kind, HR array, grid) of every held-out DEM."""
    hr, grid = test_block()
    sets = [
        (
            "Jacksboro test block (Tennessee, USGS 3 arc-second)",
            "ridge-and-valley hills",
            hr,
            grid,
        )
    ]
    if data_dir is not None:
        for entry in TERRAIN:
            if entry.role == "test":
                arr, g = terrain_dem(entry, data_dir)
                sets.append((entry.label, entry.terrain, arr, g))
    return sets


METHODS = ("model", "spline_bp", "gdal_cubic", "nearest")
HELD_OUT_DATA = (
    "Jacksboro rows 216:344, cols 0:160 (rugged south-west block), never seen in training or "
    "selection; HR pixel 3 arc-second (about 74 m x 93 m); LR = block mean of HR. by_area: "
    "every held-out DEM (whole regions never used in training or selection: the Jacksboro test "
    "block, the Alps near Grenoble, Philondenx farmland at 1 m, Rome, the Gironde coast), LR by "
    "block means and by sensor blur"
)
# Why the spline can be as good as a network on a held-out terrain kind (the cards say it
# where the model loses there).
SPLINE_WINS_WHY: dict[str, str] = {
    "low hills and city": "a city DEM stored in whole metres: its 1 m steps and buildings are "
    "detail no network trained on natural relief can predict, and its gentle hills leave the "
    "spline close to the truth",
    "coast": "flat land and water with a few metres of relief, where the spline is already "
    "close to the truth and added detail is mostly noise",
    "farmland, 1 m": "a surface model of gentle fields whose 1 m relief is trees, hedges and "
    "buildings, unlike the mountains and ridges of the training DEMs",
}
HELD_OUT_NOTES = (
    "Methods: model; spline_bp = cubic spline with back-projection (MODEL=spline); "
    "gdal_cubic = gdalwarp -r cubic; nearest = gdalwarp -r near. model_beats_baseline: lower "
    "elevation RMSE and lower slope RMSE than spline_bp on every block-mean row. SSIM: 7x7 "
    "uniform window, K1 0.01, K2 0.03, mean over pixels whose window lies inside the area "
    "(scikit-image convention). Slope RMSE in degrees by central differences on the pixel size "
    "in metres."
)


def compare_methods(
    net: Any, hr: np.ndarray, grid: Grid, scale: int, degradation: str
) -> dict[str, dict[str, float]]:
    """Model, back-projected spline, GDAL cubic and nearest against ``hr`` from one LR."""
    hr = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]
    dx, dy = grid_pixel_m(grid)
    lr = block_mean(hr, scale) if degradation == "block mean" else sensor_degrade(hr, scale)
    results = {
        "model": compare_dems(super_resolve_array(net, lr, scale), hr, dx, dy),
        "spline_bp": compare_dems(spline_bp_upsample(lr, scale), hr, dx, dy),
        "gdal_cubic": compare_dems(gdal_upsample(lr, scale, "cubic"), hr, dx, dy),
        "nearest": compare_dems(gdal_upsample(lr, scale, "nearest"), hr, dx, dy),
    }
    return {k: v.as_dict() for k, v in results.items()}


def held_out_table(net: Any, scale: int, data_dir: str | None) -> list[dict[str, Any]]:
    """One row per held-out DEM and degradation: the four methods' metrics."""
    rows = []
    for label, terrain, hr, grid in test_sets(data_dir):
        for degradation in ("block mean", "sensor blur"):
            rows.append(
                {
                    "dem": label,
                    "terrain": terrain,
                    "degradation": degradation,
                    "pixel_m": [round(v, 2) for v in grid_pixel_m(grid)],
                    "metrics": compare_methods(net, hr, grid, scale, degradation),
                }
            )
    return rows


def held_out_metrics(net: Any, scale: int) -> dict[str, dict[str, float]]:
    """Model, spline with back-projection, GDAL cubic and nearest on the held-out Jacksboro
    block (LR = block mean of HR)."""
    hr, grid = test_block()
    return compare_methods(net, hr, grid, scale, "block mean")
