"""geohazard:traindeepoffsettracking in a real QGIS: a tiny fine-tune of the bundled model on a
speckled SAR pair with a known displacement raster, the model then used by name in
geohazard:deepoffsettracking, the CSV log with the base model's row, cancel + resume with the
same number of steps, OVERWRITE, an unwritable log folder, and scripts/qgis_process."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from geohazard.engine.io.raster_io import write_raster
from geohazard.engine.simulate import displacement
from processing_runs import RecordingFeedback
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from sar_pairs import utm_grid, write_pair

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "geohazard:traindeepoffsettracking"
TRACK = "geohazard:deepoffsettracking"
SHAPE = (192, 192)
# Tiny: 32 px crops, batch 2; blocks of 64 px, the prior's 32 px margin leaves 5 usable blocks
# of which one is held out: 4 training blocks of valid pixels, one epoch of 4 steps.
TINY = {"EPOCHS": 2, "BATCH_SIZE": 2, "PATCH_SIZE": 32, "DEVICE": 1}


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


def write_training_pair(folder: Path, seed: int = 4, bias_px: float = 0.0) -> dict[str, str]:
    """A speckled pair displaced by a smooth field of up to 2 px and its known displacement
    raster (east, north m, 10 m pixels), named as a training folder expects. ``bias_px`` adds a
    constant eastward offset to the targets (e.g. a known coregistration shift) that the base
    model does not predict."""
    folder.mkdir(parents=True, exist_ok=True)
    fy, fx = displacement.smooth_random_field(SHAPE, 2.0, 80.0, seed)
    ref, sec = write_pair(folder, fy, fx)
    grid = utm_grid(SHAPE)
    offsets = np.stack([(fx + bias_px) * 10.0, -fy * 10.0]).astype(np.float32)
    targets = write_raster(str(folder / "pair_offsets.tif"), offsets, grid, ["east", "north"])
    os.replace(ref, folder / "pair_reference.tif")
    os.replace(sec, folder / "pair_secondary.tif")
    return {
        "REFERENCE": str(folder / "pair_reference.tif"),
        "SECONDARY": str(folder / "pair_secondary.tif"),
        "TARGETS": targets,
    }


@pytest.fixture
def pair(tmp_path: Path) -> dict[str, str]:
    return write_training_pair(tmp_path / "pair")


def _params(pair: dict, tmp_path: Path, name: str, **extra: object) -> dict:
    return {
        **pair,
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
        "REFERENCE",
        "SECONDARY",
        "TARGETS",
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
    assert alg.parameterDefinition("BATCH_SIZE").defaultValue() == 8
    assert alg.parameterDefinition("HUBER_PX").defaultValue() == pytest.approx(0.1)
    assert "Kim" in alg.shortHelpString() and "val_epe_px" in alg.shortHelpString()


def test_finetune_then_track_by_name(user_models, pair, tmp_path) -> None:
    from geohazard.engine.models.model_card import read_card_file

    res = _run(_params(pair, tmp_path, "pytest_do_ft"))
    steps = res["STEPS"]
    assert res["OUTPUT_MODEL"] == "pytest_do_ft" and steps >= 2 and steps % 2 == 0
    assert res["LOG_METRIC"] == "val_epe_px"
    assert np.isfinite(res["EPE"]) and np.isfinite(res["BASE_EPE"]) and res["PRIOR_EPE"] > 0
    card = read_card_file(os.path.join(user_models, "pytest_do_ft.json"))
    assert card.task == "deep-offset-tracking"
    assert card.training["base_model"] == "deep_offsets_small" and card.training["steps"] == steps
    held = card.held_out
    assert held is not None and {"model", "base_model"} <= set(held.metrics)
    assert held.metrics["model"]["epe_px"] == pytest.approx(res["EPE"])
    assert held.model_beats_baseline == (
        held.metrics["model"]["rmse_px"] <= held.metrics["base_model"]["rmse_px"]
    )
    with open(res["LOG"], newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        columns = reader.fieldnames or []
    assert [c for c in columns if c.startswith("val_")][0] == "val_epe_px"
    assert rows[0]["stage"] == "base model" and float(rows[0]["val_epe_px"]) == pytest.approx(
        res["BASE_EPE"], rel=1e-4
    )
    assert [int(r["step"]) for r in rows[1:]] == list(range(1, steps + 1))
    assert sum(1 for r in rows[1:] if r.get("val_epe_px")) == 2  # one per epoch
    assert Path(res["CURVES"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not os.path.exists(os.path.join(user_models, ".training", "pytest_do_ft"))
    # the inference algorithm knows the new model by its name
    import processing

    out = tmp_path / "dense.tif"
    processing.run(
        TRACK,
        {
            "REFERENCE": pair["REFERENCE"],
            "SECONDARY": pair["SECONDARY"],
            "MODEL": "pytest_do_ft",
            "OUTPUT": str(out),
        },
    )
    with rasterio.open(out) as ds:
        assert ds.count == 6 and ds.width == SHAPE[1]
        east = ds.read(1)
    assert np.isfinite(east).any()
    # the name is taken now: refused without OVERWRITE, replaced with it
    with pytest.raises(QgsProcessingException, match="already exists.*OVERWRITE"):
        _run(_params(pair, tmp_path, "pytest_do_ft", EPOCHS=1))
    again = _run(_params(pair, tmp_path, "pytest_do_ft", EPOCHS=1, OVERWRITE=True))
    assert again["STEPS"] == steps // 2


def test_cancel_mid_epoch_then_resume_same_steps(user_models, pair, tmp_path) -> None:
    params = _params(pair, tmp_path, "pytest_do_resume")
    uninterrupted = _run(_params(pair, tmp_path, "pytest_do_whole"))["STEPS"]
    feedback = CancellingFeedback(at=30)
    with pytest.raises(QgsProcessingException, match="cancelled after .* the checkpoint is kept"):
        _run(params, feedback)
    run_dir = Path(user_models) / ".training" / "pytest_do_resume"
    assert (run_dir / "checkpoint.safetensors").exists()
    assert not (Path(user_models) / "pytest_do_resume.safetensors").exists()
    again = CancellingFeedback(at=101)
    res = _run(params, again)
    assert any("Resumed from the checkpoint after" in m for m in again.messages)
    assert res["STEPS"] == uninterrupted
    with open(res["LOG"], newline="") as fh:
        steps = [int(r["step"]) for r in csv.DictReader(fh) if r["stage"] != "base model"]
    assert steps == list(range(1, uninterrupted + 1))  # every step once: none lost, none repeated
    assert not run_dir.exists()


def test_bad_input_and_unwritable_log_are_refused(user_models, pair, tmp_path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "a_file").write_text("x")
    bad_log = _params(pair, tmp_path, "pytest_do_bad", LOG=str(blocker / "a_file" / "log.csv"))
    with pytest.raises(QgsProcessingException, match="LOG: .* cannot be written"):
        _run(bad_log)
    with pytest.raises(QgsProcessingException, match="all three of REFERENCE, SECONDARY"):
        _run({"REFERENCE": pair["REFERENCE"], "OUTPUT_MODEL": "pytest_do_bad", **TINY})
    with pytest.raises(QgsProcessingException, match="REFERENCE, SECONDARY and TARGETS.*FOLDER"):
        _run({"OUTPUT_MODEL": "pytest_do_bad", **TINY})
    with pytest.raises(QgsProcessingException, match="name of a bundled model"):
        _run(_params(pair, tmp_path, "deep_offsets_small"))
    one_band = tmp_path / "one_band.tif"
    with rasterio.open(pair["TARGETS"]) as src:
        profile = {**src.profile, "count": 1}
        data = src.read(1)
    with rasterio.open(one_band, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(QgsProcessingException, match="targets need two"):
        _run(_params({**pair, "TARGETS": str(one_band)}, tmp_path, "pytest_do_bad"))
    assert [p for p in os.listdir(user_models) if p.startswith("pytest_do_bad")] == []
    assert [p.name for p in blocker.iterdir()] == ["a_file"]


@pytest.mark.slow
def test_qgis_process_trains_from_a_folder_then_tracks(pair, tmp_path) -> None:
    name = "pytest_do_qp"
    folder = os.path.dirname(pair["REFERENCE"])
    run = [str(ROOT / "scripts" / "qgis_process"), "run"]
    proc = subprocess.run(
        [*run, TRAIN, "--json", "--", f"FOLDER={folder}", f"OUTPUT_MODEL={name}"]
        + [f"{k}={v}" for k, v in TINY.items()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    weights = results["MODEL_PATH"]
    try:
        assert results["STEPS"] > 0 and results["LOG_METRIC"] == "val_epe_px"
        out = tmp_path / "dense.tif"
        proc = subprocess.run(
            [
                *run,
                TRACK,
                "--",
                f"REFERENCE={pair['REFERENCE']}",
                f"SECONDARY={pair['SECONDARY']}",
                f"MODEL={name}",
                f"OUTPUT={out}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert out.exists()
    finally:
        for path in (weights, os.path.splitext(weights)[0] + ".json"):
            if os.path.exists(path):
                os.remove(path)


def test_a_classical_offset_map_serves_as_targets(user_models, pair, tmp_path) -> None:
    """The output of geohazard:offsettracking (on its coarser grid of window centres) is read
    onto the reference grid as the targets, and the card names it."""
    import processing
    from geohazard.engine.models.model_card import read_card_file

    tracked = tmp_path / "tracked.tif"
    processing.run(
        "geohazard:offsettracking",
        {
            "REFERENCE": pair["REFERENCE"],
            "SECONDARY": pair["SECONDARY"],
            "WINDOW_SIZES": "32",
            "STEP": 8,
            "SEARCH": 8,
            "OUTPUT": str(tracked),
        },
    )
    with rasterio.open(tracked) as ds, rasterio.open(pair["REFERENCE"]) as ref:
        assert ds.width < ref.width  # a coarser grid than the images
    feedback = RecordingFeedback()
    res = _run(
        _params({**pair, "TARGETS": str(tracked)}, tmp_path, "pytest_do_ncc", EPOCHS=1), feedback
    )
    assert res["STEPS"] > 0 and np.isfinite(res["EPE"])
    # the user is told what such targets teach
    assert any("teach the network that tracker's answer" in m for m in feedback.messages)
    card = read_card_file(os.path.join(user_models, "pytest_do_ncc.json"))
    assert card.training["data"][0]["targets"] == "tracked.tif"
