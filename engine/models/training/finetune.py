"""What every fine-tuning run in QGIS shares: its settings, epochs, resume, the CSV log, the curves.

A family's fine-tuning (e.g. :mod:`..superres.finetune`) prepares its data, builds its hooks on
the shared loop and calls :func:`run_finetune`. The checkpoint of an unfinished run lives in
``<user models>/.training/<output name>/``; a re-run with the same output name and the same data
and recipe resumes from it (cancel writes it first); any other run with that name starts over.
When the model is saved the folder is removed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ...core.errors import GeohazardError
from ...core.progress import Reporter
from ..model_card import NAME_RE

TRAINING_DIR = ".training"
FINGERPRINT = "run.json"
MAX_EPOCHS = 10_000
MAX_STEPS = 10_000_000


@dataclass(frozen=True)
class FineTuneSettings:
    """The values every training algorithm exposes (EPOCHS, BATCH_SIZE, ...).

    Args:
        base_model: a bundled or user model name, ``default``, or a .safetensors path.
        output_name: name of the new model in the user models folder.
        user_models: the user models folder (weights and cards are written there).
        epochs: passes over the training data (see :func:`steps_per_epoch`).
        batch_size: samples per optimiser step.
        learning_rate: Adam's learning rate.
        validation_share: share (0-0.9) of the data held out for validation, as whole blocks.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N``.
        log_path: CSV training log ("" for none).
        curves_path: PNG of the loss and validation curves ("" for none).
        seed: seeds the network, the split and the batches.
        overwrite: replace an existing user model of ``output_name`` (refused otherwise).
    """

    base_model: str
    output_name: str
    user_models: str
    epochs: int = 5
    batch_size: int = 16
    learning_rate: float = 1e-4
    validation_share: float = 0.2
    device: str = "auto"
    log_path: str = ""
    curves_path: str = ""
    seed: int = 0
    overwrite: bool = False

    def validate(self, bundled_names: list[str]) -> None:
        if not NAME_RE.match(self.output_name or ""):
            raise GeohazardError(
                f"OUTPUT_MODEL '{self.output_name}' is not a valid model name: use letters, "
                "digits, '_', '.' or '-' (at most 100), starting with a letter or digit."
            )
        if self.output_name in bundled_names:
            raise GeohazardError(
                f"OUTPUT_MODEL '{self.output_name}' is the name of a bundled model; choose "
                "another name for your fine-tuned model."
            )
        if not self.user_models:
            raise GeohazardError("No user models folder is known to save the model in.")
        existing = os.path.join(self.user_models, f"{self.output_name}.safetensors")
        if os.path.exists(existing) and not self.overwrite:
            raise GeohazardError(
                f"A model named '{self.output_name}' already exists in your models folder "
                f"({existing}); choose another OUTPUT_MODEL name, or set OVERWRITE to replace it."
            )
        for label, path in (("LOG", self.log_path), ("CURVES", self.curves_path)):
            if path:
                check_writable(path, label)
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise GeohazardError(f"EPOCHS must be between 1 and {MAX_EPOCHS}.")
        if not 1 <= self.batch_size <= 1024:
            raise GeohazardError("BATCH_SIZE must be between 1 and 1024.")
        if not (math.isfinite(self.learning_rate) and 0 < self.learning_rate <= 1):
            raise GeohazardError("LEARNING_RATE must be above 0 and at most 1 (e.g. 0.0001).")
        if not 0 < self.validation_share <= 0.9:
            raise GeohazardError(
                "VALIDATION_SHARE must be above 0 and at most 0.9 (e.g. 0.2 holds out a fifth)."
            )


def check_writable(path: str, label: str) -> None:
    """Refuse, before any training, an output file whose folder cannot be made or written."""
    folder = os.path.dirname(os.path.abspath(path))
    probe = os.path.join(folder, f".geohazard-probe-{uuid.uuid4().hex}")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise GeohazardError(
            f"{label}: '{path}' cannot be written ({exc.strerror or exc}); choose a writable "
            "folder."
        ) from exc


def check_data_memory(
    rasters: list[str], bytes_per_pixel: int, reporter: Reporter | None = None
) -> None:
    """Refuse, before any model is loaded, training data that cannot be held in memory.

    Training reads each raster whole (its scenes are cut into blocks in memory), so the memory a
    run needs grows with the rasters' pixels; ``bytes_per_pixel`` is what the family holds per
    pixel of these rasters (inputs, targets, priors and masks together).
    """
    from ...io.raster_io import inspect_raster
    from ...io.run_estimate import check_memory

    grids = [inspect_raster(p).grid for p in rasters]
    pixels = sum(g.width * g.height for g in grids)
    check_memory(
        pixels * bytes_per_pixel,
        f"the training data ({len(rasters)} raster(s), {pixels:,} px in all, read whole)",
        "clip the training rasters to smaller areas or give fewer of them.",
        reporter,
    )


def steps_per_epoch(train_pixels: int, batch_size: int, patch_pixels: int) -> int:
    """Optimiser steps that draw, on average, each training pixel once (random patches)."""
    return max(1, math.ceil(train_pixels / max(batch_size * patch_pixels, 1)))


def check_total_steps(epochs: int, per_epoch: int) -> int:
    total = epochs * per_epoch
    if total > MAX_STEPS:
        raise GeohazardError(
            f"{epochs} epochs of {per_epoch} steps is {total} steps, more than {MAX_STEPS}; "
            "use fewer epochs or a larger batch size."
        )
    return total


def run_dir(settings: FineTuneSettings) -> str:
    """Where the checkpoint of an unfinished run for ``output_name`` is kept."""
    return os.path.join(settings.user_models, TRAINING_DIR, settings.output_name)


def fingerprint(description: dict[str, Any]) -> str:
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_run_dir(folder: str, description: dict[str, Any], rep: Reporter) -> bool:
    """Make ``folder``; True when it holds a checkpoint of this very run (same data, recipe).

    A checkpoint of a different run under the same name is removed, with a message.
    """
    from .loop import CHECKPOINT

    key = fingerprint(description)
    marker = os.path.join(folder, FINGERPRINT)
    if os.path.exists(os.path.join(folder, CHECKPOINT)):
        try:
            with open(marker, encoding="utf-8") as fh:
                same = json.load(fh).get("fingerprint") == key
        except (OSError, ValueError):
            same = False
        if same:
            return True
        rep.warning(
            "A checkpoint of an earlier, different training run with this output name was "
            "found; it is discarded and training starts from the base model."
        )
        shutil.rmtree(folder, ignore_errors=True)
    try:
        os.makedirs(folder, exist_ok=True)
        with open(marker, "w", encoding="utf-8") as fh:
            json.dump({"fingerprint": key, "run": description}, fh, default=str)
    except OSError as exc:
        raise GeohazardError(
            f"The training folder '{folder}' cannot be written: {exc.strerror}. Check that the "
            "QGIS profile folder is writable and the disk is not full."
        ) from exc
    return False


def remove_run_dir(folder: str) -> None:
    """Remove a finished run's folder (and the training folder when it is left empty)."""
    shutil.rmtree(folder, ignore_errors=True)
    parent = os.path.dirname(folder)
    if os.path.isdir(parent) and not os.listdir(parent):
        os.rmdir(parent)


def write_log_csv(path: str, rows: list[dict[str, Any]]) -> None:
    """The training log (one row per step, validation columns where measured), atomically."""
    if not path:
        return
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    _atomic(path, lambda tmp: _write_csv(tmp, columns, rows))


def data_files(paths: list[str]) -> list[dict[str, Any]]:
    """The training files as a run's fingerprint records them: a changed file starts over."""
    return [{"file": p, "size": os.path.getsize(p), "mtime": os.path.getmtime(p)} for p in paths]


def live_log(
    path: str, rows: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], rep: Reporter
) -> Callable[[list[dict[str, Any]]], None]:
    """A :class:`TrainingLoop` ``on_validation`` callback that rewrites the CSV log after every
    validation, so the training dialog (and the user) can follow the curves while it trains.

    ``rows`` turns the loop's validation history into the log rows. A failed write warns once
    and training goes on (the final log is written, and checked, when training ends).
    """
    warned = False

    def write(history: list[dict[str, Any]]) -> None:
        nonlocal warned
        try:
            write_log_csv(path, rows(history))
        except GeohazardError as exc:
            if not warned:
                rep.warning(f"The training log is not updated while training: {exc}")
                warned = True

    return write


def _write_csv(tmp: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)


def write_curves_png(
    path: str,
    losses: list[tuple[int, float]],
    validation: list[tuple[int, float]],
    baselines: dict[str, float],
    metric: str,
    title: str,
) -> None:
    """Training loss and the validation metric (with baselines as lines) per step, as PNG."""
    if not path:
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    if losses:
        ax1.plot([s for s, _ in losses], [v for _, v in losses], lw=0.8, label="training loss")
    ax1.set_xlabel("optimiser step")
    ax1.set_ylabel("loss (normalised units)")
    ax1.set_title("training loss")
    if validation:
        ax2.plot([s for s, _ in validation], [v for _, v in validation], "o-", label="model")
    for k, (name, value) in enumerate(baselines.items()):
        ax2.axhline(value, ls="--", color=f"C{k + 1}", label=name)
    ax2.set_xlabel("optimiser step")
    ax2.set_ylabel(metric)
    ax2.set_title("validation")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    _atomic(path, lambda tmp: fig.savefig(tmp, format="png"))


def _atomic(path: str, write: Callable[[str], None]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        os.makedirs(folder, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise GeohazardError(
            f"'{path}' cannot be written: {exc.strerror}. Check the folder exists, is writable "
            "and the disk is not full."
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def settings_dict(settings: FineTuneSettings) -> dict[str, Any]:
    """The settings as recorded in a card (paths of the user's machine left out)."""
    d = asdict(settings)
    for key in ("user_models", "log_path", "curves_path", "overwrite"):
        d.pop(key)
    return d
