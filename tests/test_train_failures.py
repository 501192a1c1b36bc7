"""Fine-tuning that goes wrong says so and keeps the last good checkpoint.

The real deep offset fine-tuning (engine/families/deep_offsets/finetune.py on the shared
engine/models/training/finetune_run.py, the sequence every family's algorithm runs) on a tiny
speckled pair; what goes wrong is made to happen in the middle of the second epoch by the batch
sampler:

- the training data turns NaN: the loss becomes NaN, training stops with a sentence naming the
  step, and the checkpoint on disk is the one written at the end of the first epoch;
- the disk fills up (a small tmpfs holds the user models folder): the next checkpoint cannot be
  written, training stops with a sentence asking to free space, the checkpoint of the first
  epoch is intact, and once space is freed the same run resumes from it and saves the model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.families.deep_offsets import training as do_training
from geohazard.engine.families.deep_offsets.dataset import BatchSampler
from geohazard.engine.families.deep_offsets.finetune import (
    DeepOffsetPair,
    DeepOffsetRecipe,
    finetune_deep_offsets,
)
from geohazard.engine.models.training.checkpoint import load_checkpoint
from geohazard.engine.models.training.finetune import FineTuneSettings
from geohazard.engine.models.training.loop import TrainingDiverged
from run_checks import fill_disk
from test_deep_offsets_train_qgis import write_training_pair

PER_EPOCH = 5  # the tiny pair: 4 training blocks of 64 px, 32 px crops, batch 2


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def pair(tmp_path: Path) -> DeepOffsetPair:
    p = write_training_pair(tmp_path / "pair")
    return DeepOffsetPair(p["REFERENCE"], p["SECONDARY"], p["TARGETS"])


def sampler_that(monkeypatch, at_batch: int, action) -> None:  # type: ignore[no-untyped-def]
    """From the ``at_batch``-th batch (1-based) of a sampler on, ``action(batch)`` runs first."""

    class Sampler(BatchSampler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.calls = 0

        def batch(self, size: int) -> dict[str, np.ndarray]:
            self.calls += 1
            out = super().batch(size)
            if self.calls >= at_batch:
                action(out)
            return out

    monkeypatch.setattr(do_training, "BatchSampler", Sampler)


def settings(folder: str, tmp_path: Path) -> FineTuneSettings:
    return FineTuneSettings(
        "default",
        "pytest_failing",
        folder,
        epochs=2,
        batch_size=2,
        device="cpu",
        log_path=str(tmp_path / "log.csv"),
    )


def checkpoint_step(models: str) -> int:
    path = os.path.join(models, ".training", "pytest_failing", "checkpoint.safetensors")
    _, meta = load_checkpoint(path)
    return int(meta["step"])


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(
    monkeypatch, pair, tmp_path
) -> None:
    def poison(batch: dict[str, np.ndarray]) -> None:
        batch["truth"][:] = np.nan

    sampler_that(monkeypatch, PER_EPOCH + 2, poison)
    models = str(tmp_path / "models")
    with pytest.raises(
        TrainingDiverged, match=f"loss became nan at stage train, step {PER_EPOCH + 2}"
    ):
        finetune_deep_offsets([pair], settings(models, tmp_path), DeepOffsetRecipe(patch=32))
    assert checkpoint_step(models) == PER_EPOCH  # the end of the first, good epoch
    assert not os.path.exists(os.path.join(models, "pytest_failing.safetensors"))
    # the live log shows the good epoch (and the base model), nothing after it
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and len(rows) == 1 + 1 + PER_EPOCH


def test_full_disk_stops_with_a_message_then_resumes_once_space_is_freed(
    monkeypatch, pair, tmp_path, small_disk
) -> None:
    disk = small_disk("32m")
    models = str(disk / "models")
    sampler_that(monkeypatch, PER_EPOCH + 1, lambda _batch: fill_disk(disk))
    with pytest.raises(GeohazardError, match="checkpoint could not be written.*free disk space"):
        finetune_deep_offsets([pair], settings(models, tmp_path), DeepOffsetRecipe(patch=32))
    run_dir = Path(models) / ".training" / "pytest_failing"
    assert checkpoint_step(models) == PER_EPOCH  # intact, loadable, the last good one
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoint.safetensors", "run.json"]
    assert not os.path.exists(os.path.join(models, "pytest_failing.safetensors"))
    os.remove(disk / "filler.bin")
    monkeypatch.setattr(do_training, "BatchSampler", BatchSampler)
    messages: list[str] = []
    from geohazard.engine.core.progress import Reporter

    summary = finetune_deep_offsets(
        [pair],
        settings(models, tmp_path),
        DeepOffsetRecipe(patch=32),
        Reporter(info=messages.append),
    )
    assert any(f"Resumed from the checkpoint after {PER_EPOCH} of" in m for m in messages)
    assert summary["steps"] == 2 * PER_EPOCH
    assert os.path.exists(os.path.join(models, "pytest_failing.safetensors"))
    assert not run_dir.exists()
