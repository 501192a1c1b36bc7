"""geohazard:trainsartooptical in a real QGIS: a tiny fine-tune of the bundled late-fusion model
on a SAR/DEM/optical area whose colours follow the backscatter, the model then used by name in
geohazard:sartooptical, the log's primary column and base-model row, and bad input."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.io.raster_io import Grid, write_raster
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from rasterio.crs import CRS
from scipy import ndimage

TRAIN = "geohazard:trainsartooptical"
TRANSLATE = "geohazard:sartooptical"
SHAPE = (96, 96)
# Tiny: 32 px patches (9 in the area, 2 held out), batch 2, one epoch of 4 steps.
TINY = {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCH_SIZE": 32, "DEVICE": 1}


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    """One torch thread: on the shared 2-core test machine more threads only contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def write_area(folder: Path, seed: int = 0) -> dict[str, str]:
    """SAR (VV, VH sigma0), DEM and an RGB image on one 10 m UTM grid; the colours follow the
    (smoothed) backscatter, as bright built-up or rock against darker vegetation."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 400_000, 0, -10, 5_000_000), *SHAPE[::-1])
    land = ndimage.gaussian_filter(rng.standard_normal(SHAPE), 4)
    land = (land - land.min()) / (land.max() - land.min())
    vv = (0.02 + 0.2 * land) * rng.gamma(4.0, 0.25, SHAPE)
    vh = 0.25 * vv * rng.gamma(4.0, 0.25, SHAPE)
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    dem = 900 + 2.0 * cols + 150 * land
    rgb = np.stack([60 + 150 * land, 90 + 80 * land, 50 + 120 * land]) + rng.normal(
        0, 3, (3, *SHAPE)
    )
    return {
        "SAR": write_raster(
            str(folder / "area_sar.tif"), np.stack([vv, vh]).astype(np.float32), grid, ["VV", "VH"]
        ),
        "DEM": write_raster(
            str(folder / "area_dem.tif"), dem[None].astype(np.float32), grid, ["z"]
        ),
        "OPTICAL": write_raster(
            str(folder / "area_optical.tif"), rgb.astype(np.float32), grid, ["red", "green", "blue"]
        ),
    }


@pytest.fixture
def area(tmp_path: Path) -> dict[str, str]:
    return write_area(tmp_path / "area")


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(TRAIN, params, feedback=feedback or QgsProcessingFeedback())


def _params(area: dict, tmp_path: Path, name: str, **extra: object) -> dict:
    return {
        **area,
        "OUTPUT_MODEL": name,
        "LOG": str(tmp_path / f"{name}.csv"),
        "CURVES": str(tmp_path / f"{name}.png"),
        **TINY,
        **extra,
    }


def test_registered_with_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(TRAIN)
    names = [p.name() for p in alg.parameterDefinitions()]
    for name in (
        "SAR",
        "DEM",
        "OPTICAL",
        "FOLDER",
        "BASE_MODEL",
        "EPOCHS",
        "BATCH_SIZE",
        "LEARNING_RATE",
        "VALIDATION_SHARE",
        "DEVICE",
        "OUTPUT_MODEL",
        "OVERWRITE",
        "LOG",
        "CURVES",
    ):
        assert name in names
    # the paper's recipe: Adam at 1e-5, batch 24, 256 px patches
    assert alg.parameterDefinition("LEARNING_RATE").defaultValue() == pytest.approx(1e-5)
    assert alg.parameterDefinition("BATCH_SIZE").defaultValue() == 24
    assert alg.parameterDefinition("PATCH_SIZE").defaultValue() == 256
    assert alg.parameterDefinition("SSIM_WEIGHT").defaultValue() == 0  # the paper's MAE alone
    assert "Bralet" in alg.shortHelpString() and "val_mse" in alg.shortHelpString()


def test_finetune_then_translate_by_name(user_models, area, tmp_path) -> None:
    from geohazard.engine.models.model_card import read_card_file

    res = _run(_params(area, tmp_path, "pytest_s2o_ft", LEARNING_RATE=1e-4, SSIM_WEIGHT=0.5))
    assert res["OUTPUT_MODEL"] == "pytest_s2o_ft" and res["STEPS"] > 0
    assert res["LOG_METRIC"] == "val_mse"
    card = read_card_file(os.path.join(user_models, "pytest_s2o_ft.json"))
    assert card.task == "sar-to-optical" and card.architecture["fusion"] == "late"
    assert card.training["base_model"] == "sardinet_late"
    assert card.training["recipe"]["ssim_weight"] == pytest.approx(0.5)
    held = card.held_out
    assert held is not None
    assert {"model", "base_model", "linear colour mapping"} <= set(held.metrics)
    assert held.metrics["model"]["mse"] == pytest.approx(res["MSE"])
    assert held.metrics["base_model"]["mse"] == pytest.approx(res["BASE_MSE"])
    with open(res["LOG"], newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        columns = reader.fieldnames or []
    assert [c for c in columns if c.startswith("val_")][0] == "val_mse"
    assert rows[0]["stage"] == "base model"
    assert [int(r["step"]) for r in rows[1:]] == list(range(1, res["STEPS"] + 1))
    assert Path(res["CURVES"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import processing

    out = tmp_path / "rgb.tif"
    processing.run(
        TRANSLATE,
        {"SAR": area["SAR"], "DEM": area["DEM"], "MODEL": "pytest_s2o_ft", "OUTPUT": str(out)},
    )
    with rasterio.open(out) as ds:
        assert ds.count == 3 and ds.width == SHAPE[1]
        assert np.isfinite(ds.read()).any()


def test_bad_input_is_refused(user_models, area, tmp_path) -> None:
    with pytest.raises(QgsProcessingException, match="all three of SAR, DEM and OPTICAL"):
        _run({"SAR": area["SAR"], "OUTPUT_MODEL": "pytest_s2o_bad", **TINY})
    with pytest.raises(QgsProcessingException, match="needs three, red, green and blue"):
        _run(_params({**area, "OPTICAL": area["DEM"]}, tmp_path, "pytest_s2o_bad"))
    with pytest.raises(QgsProcessingException, match="at least two"):
        _run(_params(area, tmp_path, "pytest_s2o_bad", PATCH_SIZE=96))
    with pytest.raises(QgsProcessingException, match="name of a bundled model"):
        _run(_params(area, tmp_path, "sardinet_late"))
    assert [p for p in os.listdir(user_models) if p.startswith("pytest_s2o_bad")] == []
