"""A fourth model family joins by discovery alone: tests/toy_family/toy_gain (a 1x1 convolution
with its card, task, fine-tuning and two algorithms) is found through GEOHAZARD_FAMILY_PATH,
appears in the provider, runs through the shared tiled runner and the shared fine-tune driver,
and the parametrised cross-cutting tests check its algorithms, with no shared file naming it."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from processing_runs import RecordingFeedback
from qgis.core import QgsApplication
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
TOY = Path(__file__).resolve().parent / "toy_family"
VARIABLE = "GEOHAZARD_FAMILY_PATH"


@pytest.fixture
def toy(plugin):  # type: ignore[no-untyped-def]
    """The provider with the toy family's folder on GEOHAZARD_FAMILY_PATH, restored after."""
    provider = QgsApplication.processingRegistry().providerById("geohazard")
    before = os.environ.get(VARIABLE)
    os.environ[VARIABLE] = str(TOY)
    provider.refreshAlgorithms()
    yield provider
    if before is None:
        del os.environ[VARIABLE]
    else:
        os.environ[VARIABLE] = before
    provider.refreshAlgorithms()


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    import shutil

    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _raster(path: Path, values: np.ndarray) -> str:
    from geohazard.engine.io.raster_io import Grid, write_raster

    grid = Grid(
        CRS.from_epsg(32633), Affine(10, 0, 5e5, 0, -10, 4e6), values.shape[1], values.shape[0]
    )
    return write_raster(str(path), values[None].astype(np.float32), grid, ["value"])


def _toy_model(folder: Path, gain: float, offset: float) -> str:
    import torch
    from geohazard.engine.models.model_store import ModelStore
    from geohazard_family_toy_gain.arch import ToyGain
    from geohazard_family_toy_gain.task import toy_card

    net = ToyGain()
    with torch.no_grad():
        net.conv.weight.fill_(gain)
        net.conv.bias.fill_(offset)
    return ModelStore().save(net, toy_card("toy_model", net, {}), str(folder))


def _values(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((40, 56)).astype(np.float32)


def test_the_toy_family_is_found_by_scanning_and_appears_in_the_provider(toy) -> None:
    from geohazard.engine.families import all_tasks, family_packages

    assert Path(family_packages()["toy_gain"].__file__).parent == TOY / "toy_gain"
    assert "toy-gain" in all_tasks()
    ids = {a.id() for a in toy.algorithms()}
    assert {"geohazard:toygain", "geohazard:traintoygain"} <= ids
    train = QgsApplication.processingRegistry().algorithmById("geohazard:traintoygain")
    assert train.parameterDefinition("BATCH_SIZE").defaultValue() == 4  # from its Family
    assert train.parameterDefinition("PATCH_SIZE").maximum() == 64  # from its recipe field
    assert "Nobody, A. (2026)" in train.shortHelpString()  # its own reference, by name


def test_the_toy_family_leaves_the_provider_when_its_folder_is_gone(plugin) -> None:
    ids = {
        a.id() for a in QgsApplication.processingRegistry().providerById("geohazard").algorithms()
    }
    assert "geohazard:toygain" not in ids


def test_the_toy_model_runs_through_the_shared_tiled_runner(toy, tmp_path: Path) -> None:
    import processing
    import rasterio

    x = _values()
    x[3:7, 5:9] = np.nan
    source = _raster(tmp_path / "x.tif", x)
    model = _toy_model(tmp_path / "models", 2.0, 1.0)
    out = str(tmp_path / "y.tif")
    feedback = RecordingFeedback()
    params = {"INPUT": source, "MODEL": model, "TILE_SIZE": 16, "OVERLAP": 4, "DEVICE": 1}
    processing.run("geohazard:toygain", {**params, "OUTPUT": out}, feedback=feedback)
    with rasterio.open(out) as src:
        y = src.read(1)
    np.testing.assert_allclose(y, 2 * x + 1, rtol=1e-6, atol=1e-6, equal_nan=True)
    ran = [m for m in feedback.messages if m.startswith("Model toy_model ran on")]
    assert ran and int(ran[0].split(" in ")[1].split(" ")[0]) > 1, feedback.messages  # tiles


def test_the_toy_model_fine_tunes_through_the_shared_driver(toy, user_models, tmp_path) -> None:
    import processing
    from geohazard.engine.models.model_card import read_card_file

    x = _values(1)
    source = _raster(tmp_path / "x.tif", x)
    target = _raster(tmp_path / "t.tif", 3 * x - 2)
    base = _toy_model(tmp_path / "models", 2.0, 1.0)
    log = str(tmp_path / "log.csv")
    res = processing.run(
        "geohazard:traintoygain",
        {
            "INPUT": source,
            "TARGET": target,
            "BASE_MODEL": base,
            "EPOCHS": 3,
            "LEARNING_RATE": 0.1,
            "DEVICE": 1,
            "OUTPUT_MODEL": "pytest_toy",
            "LOG": log,
        },
        feedback=RecordingFeedback(),
    )
    assert res["STEPS"] == 12  # 3 epochs of the recipe's 4 steps
    card = read_card_file(res["MODEL_PATH"][: -len(".safetensors")] + ".json")
    assert card.task == "toy-gain"
    assert card.training["kind"] == "fine-tuning in QGIS (geohazard:traintoygain)"
    assert card.training["steps"] == 12 and card.training["recipe"] == {
        "patch": 8,
        "steps_per_epoch": 4,
    }
    with open(log, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("val_mse")]
    assert rows[0]["stage"] == "base model"
    assert float(rows[-1]["val_mse"]) < 0.5 * float(rows[0]["val_mse"])


def test_the_cross_cutting_tests_check_the_toy_algorithms(plugin) -> None:
    """The parametrised range, help, references and packages checks, run with the toy family's
    folder on the path, collect and pass for both toy algorithms."""
    env = {**os.environ, VARIABLE: str(TOY)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "toygain",
            "tests/test_parameter_checks_qgis.py",
            "tests/test_algorithm_help_qgis.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "8 passed" in proc.stdout, proc.stdout[-2000:]
