"""Deep offset tracking engine: the task through the shared runner on real GeoTIFFs, units, the
prior's interpolation, tiling, nodata and bad input (one clear sentence, nothing left)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from deep_offset_models import PRIOR, save_tiny_model
from geohazard.engine.core.errors import Cancelled, GeohazardError
from geohazard.engine.core.progress import Reporter
from geohazard.engine.core.run_options import RunOptions
from geohazard.engine.families.deep_offsets.task import (
    OUTPUT_BANDS,
    DeepOffsetConfig,
    deep_track_offsets,
)
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.model_store import BUNDLED_DIR
from geohazard.engine.models.model_task import TileSettings
from geohazard.engine.offsets.dense_prior import dense_prior
from rasterio.crs import CRS
from sar_pairs import utm_grid, write_pair

CPU = RunOptions(device="cpu", threads=1)
SHIFT = (1.5, -2.0)  # dy (down), dx (right), pixels


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    shape = (128, 144)
    dy, dx = np.full(shape, SHIFT[0], np.float32), np.full(shape, SHIFT[1], np.float32)
    return write_pair(folder, dy, dx, looks=4, coherence=0.95)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    save_tiny_model(folder, "tiny_zero", "zero")
    save_tiny_model(folder, "tiny_random", "random")
    return folder


def _run(pair, out: Path, models: Path, model: str = "tiny_zero", **cfg) -> np.ndarray:  # type: ignore[no-untyped-def]
    config = DeepOffsetConfig(model=model, **cfg)
    deep_track_offsets(*pair, str(out), config, CPU, user_models=str(models))
    with rasterio.open(out) as ds:
        assert list(ds.descriptions) == list(OUTPUT_BANDS)
        return ds.read()


def test_untrained_model_gives_the_ncc_offsets_in_metres_at_every_pixel(
    pair, tmp_path, models
) -> None:
    bands = _run(pair, tmp_path / "o.tif", models)
    assert bands.shape == (6, 128, 144)
    inner = (slice(24, -24), slice(24, -24))
    # 10 m pixels: 1.5 px down is 15 m south, 2 px left is 20 m west
    assert np.nanmedian(bands[0][inner]) == pytest.approx(-20.0, abs=0.3)
    assert np.nanmedian(bands[1][inner]) == pytest.approx(-15.0, abs=0.3)
    np.testing.assert_allclose(bands[2], np.hypot(bands[0], bands[1]), rtol=1e-5)
    assert 0.3 < np.nanmedian(bands[3]) <= 1.0
    # the untrained error head says exp(-2) * 4 px = 0.54 px = 5.4 m on both axes
    np.testing.assert_allclose(bands[4][inner], 5.41, atol=0.05)
    np.testing.assert_allclose(bands[5][inner], 5.41, atol=0.05)


def test_prior_read_through_the_runner_is_the_training_prior(pair, tmp_path, models) -> None:
    """The coarse prior raster interpolated by GDAL equals dense_prior's bilinear resampling."""
    bands = _run(pair, tmp_path / "o.tif", models)
    with rasterio.open(pair[0]) as a, rasterio.open(pair[1]) as b:
        direct = dense_prior(a.read(1), b.read(1), PRIOR)
    np.testing.assert_allclose(bands[0], 10.0 * direct[0], atol=1e-3)
    np.testing.assert_allclose(bands[1], -10.0 * direct[1], atol=1e-3)


def test_tiles_agree_with_one_whole_tile(pair, tmp_path, models) -> None:
    whole = _run(pair, tmp_path / "a.tif", models, "tiny_random", tiles=TileSettings(256, 0))
    tiled = _run(pair, tmp_path / "b.tif", models, "tiny_random", tiles=TileSettings(64, 32))
    diff = np.hypot(whole[0] - tiled[0], whole[1] - tiled[1]) / 10.0  # pixels
    assert float(np.sqrt(np.nanmean(diff**2))) < 0.01  # measured 0.003 px with 64 px tiles
    prior = _run(pair, tmp_path / "c.tif", models, "tiny_zero", tiles=TileSettings(256, 0))
    change = np.hypot(whole[0] - prior[0], whole[1] - prior[1]) / 10.0
    assert float(np.sqrt(np.nanmean(change**2))) > 0.1  # the random head does change the offsets


def test_nodata_stays_nodata(tmp_path, models) -> None:
    shape = (128, 128)
    dy = np.zeros(shape, np.float32)
    a, b = write_pair(tmp_path, dy, dy + 1.0)
    with rasterio.open(a) as ds:
        data = ds.read(1)
    data[40:60, 50:80] = np.nan
    holed = str(tmp_path / "holed.tif")
    write_raster(holed, data[None], utm_grid(shape), ["amplitude"])
    bands = _run((holed, b), tmp_path / "o.tif", models)
    assert np.isnan(bands[:, 40:60, 50:80]).all()
    assert np.isfinite(bands[:, 80:100, 80:100]).all()


def test_geographic_grid_gives_metres(tmp_path, models) -> None:
    shape = (128, 128)
    grid = Grid(CRS.from_epsg(4326), Affine(0.0001, 0, 10.0, 0, -0.0001, 45.0), shape[1], shape[0])
    a, b = write_pair(tmp_path, np.zeros(shape, np.float32), np.full(shape, 2.0, np.float32), grid)
    bands = _run((a, b), tmp_path / "o.tif", models)
    metres_per_px = 0.0001 * 111_320 * np.cos(np.deg2rad(45.0 - 0.0064))
    assert np.nanmedian(bands[0][30:-30, 30:-30]) == pytest.approx(2 * metres_per_px, rel=0.02)


# --- bad input -----------------------------------------------------------------------------------


def _refused(pair, out_dir: Path, match: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    before = [Path(p).read_bytes() for p in pair]
    with pytest.raises(GeohazardError, match=match):
        deep_track_offsets(*pair, str(out_dir / "o.tif"), **kwargs)
    assert [Path(p).read_bytes() for p in pair] == before
    assert list(out_dir.iterdir()) == []


def test_a_card_of_another_task_is_refused(pair, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dem_model = str(Path(BUNDLED_DIR) / "dem_sr_x4.safetensors")
    _refused(
        pair, out, "dem-super-resolution", config=DeepOffsetConfig(model=dem_model), options=CPU
    )


def test_a_card_whose_prior_does_not_match_its_network_is_refused(pair, tmp_path, models) -> None:
    out = tmp_path / "out"
    out.mkdir()
    weights = tmp_path / "odd.safetensors"
    shutil.copy(models / "tiny_zero.safetensors", weights)
    card = json.loads((models / "tiny_zero.json").read_text())
    card["normalisation"]["params"]["prior"]["window_sizes"] = [16, 32, 64]
    card["inputs"][2]["bands"] += ["x", "y", "z"]
    weights.with_suffix(".json").write_text(json.dumps(card))
    _refused(pair, out, "prior channels", config=DeepOffsetConfig(model=str(weights)), options=CPU)


def test_a_raster_too_small_for_the_prior_is_refused(tmp_path, models) -> None:
    shape = (24, 40)
    a, b = write_pair(tmp_path, np.zeros(shape, np.float32), np.zeros(shape, np.float32))
    out = tmp_path / "out"
    out.mkdir()
    cfg = DeepOffsetConfig(model="tiny_zero")
    _refused((a, b), out, "at least 32 px", config=cfg, options=CPU, user_models=str(models))


def test_missing_band_and_output_over_input_are_refused(pair, tmp_path, models) -> None:
    out = tmp_path / "out"
    out.mkdir()
    cfg = DeepOffsetConfig(model="tiny_zero", band=3)
    _refused(pair, out, "Band 3 does not exist", config=cfg, options=CPU, user_models=str(models))
    with pytest.raises(GeohazardError, match="overwrite an input"):
        deep_track_offsets(
            pair[0],
            pair[1],
            pair[0],
            DeepOffsetConfig(model="tiny_zero"),
            CPU,
            user_models=str(models),
        )


def test_cancel_leaves_nothing(pair, tmp_path, models) -> None:
    out = tmp_path / "out"
    out.mkdir()
    seen: list[float] = []
    rep = Reporter(progress=seen.append, is_canceled=lambda: bool(seen) and seen[-1] > 0.5)
    with pytest.raises(Cancelled):
        deep_track_offsets(
            *pair,
            str(out / "o.tif"),
            DeepOffsetConfig(model="tiny_zero", tiles=TileSettings(64, 16)),
            CPU,
            rep,
            user_models=str(models),
        )
    assert list(out.iterdir()) == []
