"""geohazard:traindemsuperresolution in a real QGIS: a tiny fine-tune of the bundled x4 model
through processing.run and scripts/qgis_process, the model then used by name, the CSV and PNG,
cancel + resume with the same number of steps, and bad input with a clear message."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import rasterio
from dem_rasters import utm_dem
from qgis.core import QgsProcessingException, QgsProcessingFeedback

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "geohazard:traindemsuperresolution"
SR = "geohazard:demsuperresolution"
# Tiny: 16 px HR patches (4 px LR at x4), batch 2, one epoch of 13 steps on a 96x96 DEM.
TINY = {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCH_SIZE": 16, "ADVERSARIAL_SHARE": 0.2, "DEVICE": 1}
STEPS = 13


class CancellingFeedback(QgsProcessingFeedback):
    """Cancels once progress reaches ``at`` percent."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at
        self.messages: list[str] = []
        self.progressChanged.connect(lambda v: self.cancel() if v >= self.at else None)

    def pushInfo(self, info: str) -> None:  # noqa: N802 (QGIS API name)
        self.messages.append(info)
        super().pushInfo(info)


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    """One torch thread: on the shared 2-core test machine more threads only contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(TRAIN, params, feedback=feedback or QgsProcessingFeedback())


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


@pytest.fixture
def dem(tmp_path: Path) -> str:
    (tmp_path / "in").mkdir()
    return utm_dem(tmp_path / "in" / "dem.tif", shape=(96, 96), seed=11)


def _params(dem: str, tmp_path: Path, name: str, **extra: object) -> dict:
    return {
        "INPUT": [dem],
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
        "BASE_MODEL",
        "EPOCHS",
        "BATCH_SIZE",
        "LEARNING_RATE",
        "VALIDATION_SHARE",
        "DEVICE",
        "OUTPUT_MODEL",
        "LOG",
        "CURVES",
    ):
        assert name in names
    assert alg.parameterDefinition("LEARNING_RATE").defaultValue() == pytest.approx(1e-4)
    assert alg.parameterDefinition("BATCH_SIZE").defaultValue() == 16
    assert "Demiray" in alg.shortHelpString() and "dem_sr_x4" in alg.shortHelpString()


def test_finetune_then_use_by_name(user_models, dem, tmp_path) -> None:
    from geohazard.engine.models.model_card import read_card_file

    res = _run(_params(dem, tmp_path, "pytest_ft_x4"))
    assert res["OUTPUT_MODEL"] == "pytest_ft_x4" and res["STEPS"] == STEPS
    assert os.path.dirname(res["MODEL_PATH"]) == user_models
    card = read_card_file(os.path.join(user_models, "pytest_ft_x4.json"))
    assert card.task == "dem-super-resolution" and card.scale == 4
    assert card.training["base_model"] == "dem_sr_x4" and card.training["data"] == ["dem.tif"]
    assert card.training["recipe"]["patch"] == 16 and card.training["steps"] == STEPS
    held = card.held_out
    assert held is not None and set(held.metrics) == {"model", "bicubic", "base_model"}
    assert held.metrics["model"]["rmse_m"] == pytest.approx(res["RMSE"])
    beats = held.metrics["model"]["rmse_m"] < held.metrics["bicubic"]["rmse_m"]
    assert held.model_beats_baseline == (
        beats and held.metrics["model"]["psnr_db"] > held.metrics["bicubic"]["psnr_db"]
    )
    # no checkpoint folder is left once the model is saved
    assert not os.path.exists(os.path.join(user_models, ".training", "pytest_ft_x4"))
    with open(res["LOG"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["stage"] == "base model" and float(rows[0]["val_rmse_m"]) > 0
    rows = rows[1:]
    assert [int(r["step"]) for r in rows] == list(range(1, STEPS + 1))
    assert all(float(r["loss"]) > 0 for r in rows)
    assert sum(1 for r in rows if r.get("val_rmse_m")) == 2  # end of each stage
    assert {r["stage"] for r in rows} == {"finetune", "gan"}
    assert Path(res["CURVES"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the inference algorithm knows the new model by its name
    import processing

    out = tmp_path / "sr.tif"
    processing.run(SR, {"INPUT": dem, "SCALE": 4, "MODEL": "pytest_ft_x4", "OUTPUT": str(out)})
    with rasterio.open(out) as ds, rasterio.open(dem) as src:
        assert ds.width == 4 * src.width and ds.tags()["GEOHAZARD_MODEL"] == "pytest_ft_x4"


@pytest.mark.slow
def test_cancel_then_resume_same_steps(user_models, dem, tmp_path) -> None:
    params = _params(dem, tmp_path, "pytest_resume")
    feedback = CancellingFeedback(at=40)
    with pytest.raises(QgsProcessingException, match="cancelled after .* the checkpoint is kept"):
        _run(params, feedback)
    run_dir = Path(user_models) / ".training" / "pytest_resume"
    assert (run_dir / "checkpoint.safetensors").exists()
    assert not (Path(user_models) / "pytest_resume.safetensors").exists()
    with open(params["LOG"], newline="") as fh:  # the live log: the base model, no step yet
        assert [r["stage"] for r in csv.DictReader(fh)] == ["base model"]
    again = CancellingFeedback(at=101)
    res = _run(params, again)
    assert any("Resumed from the checkpoint after" in m for m in again.messages)
    assert res["STEPS"] == STEPS
    with open(res["LOG"], newline="") as fh:
        steps = [int(r["step"]) for r in csv.DictReader(fh) if r["stage"] != "base model"]
    assert steps == list(range(1, STEPS + 1))  # every step once: none lost, none repeated
    assert not run_dir.exists()


def test_too_small_dem_and_wrong_task_base(user_models, tmp_path) -> None:
    (tmp_path / "in").mkdir()
    small = utm_dem(tmp_path / "in" / "small.tif", shape=(30, 30))
    with pytest.raises(QgsProcessingException, match="only 30x30 pixels"):
        _run(_params(small, tmp_path, "pytest_bad"))
    dem = utm_dem(tmp_path / "in" / "dem.tif", shape=(96, 96))
    other = ROOT / "models" / "sardinet_early.safetensors"
    with pytest.raises(QgsProcessingException, match="is a model for 'sar-to-optical"):
        _run(_params(dem, tmp_path, "pytest_bad", BASE_MODEL=str(other)))
    with pytest.raises(QgsProcessingException, match="name of a bundled model"):
        _run(_params(dem, tmp_path, "dem_sr_x4"))
    with pytest.raises(QgsProcessingException, match="INPUT.*FOLDER"):
        _run({"OUTPUT_MODEL": "pytest_bad", **TINY})
    leftovers = [p for p in os.listdir(user_models) if p.startswith("pytest_bad")]
    assert leftovers == [] and not list(tmp_path.glob("pytest_bad*"))


def _qgis_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_qgis_process_trains_from_a_folder_then_infers(dem, tmp_path) -> None:
    name = "pytest_qp_x4"
    folder = os.path.dirname(dem)
    proc = _qgis_process(
        TRAIN,
        "--json",
        "--",
        f"FOLDER={folder}",
        f"OUTPUT_MODEL={name}",
        f"LOG={tmp_path / 'log.csv'}",
        *(f"{k}={v}" for k, v in TINY.items()),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    weights = results["MODEL_PATH"]
    try:
        assert results["STEPS"] == STEPS and (tmp_path / "log.csv").exists()
        out = tmp_path / "sr.tif"
        proc = _qgis_process(SR, "--", f"INPUT={dem}", f"MODEL={name}", f"OUTPUT={out}")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert out.exists()
    finally:
        for path in (weights, os.path.splitext(weights)[0] + ".json"):
            if os.path.exists(path):
                os.remove(path)
