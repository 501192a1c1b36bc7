"""The live plot of a training run: training loss and the validation metric per optimiser step.

The engine rewrites the CSV log atomically after every validation (``engine/training/
finetune.py``: ``live_log``), with the columns ``step``, ``stage``, ``loss`` and ``val_*`` on the
steps that validated. The dialog polls the file with a timer and redraws when it changed.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field

from qgis.PyQt.QtWidgets import QSizePolicy, QVBoxLayout, QWidget


@dataclass
class TrainingLog:
    """What the plot shows, read from the CSV log."""

    losses: list[tuple[int, float]] = field(default_factory=list)
    metric: str = ""
    validation: list[tuple[int, float]] = field(default_factory=list)

    @property
    def last_step(self) -> int:
        return self.losses[-1][0] if self.losses else 0


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def read_training_log(path: str, metric: str = "") -> TrainingLog:
    """The loss per step and one validation column (``metric``, else the first ``val_*``)."""
    log = TrainingLog()
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = [c for c in (reader.fieldnames or []) if c.startswith("val_")]
            log.metric = metric if metric in columns else (columns[0] if columns else "")
            for row in reader:
                step = _number(row.get("step"))
                if step is None:
                    continue
                loss = _number(row.get("loss"))
                if loss is not None:
                    log.losses.append((int(step), loss))
                value = _number(row.get(log.metric)) if log.metric else None
                if value is not None:
                    log.validation.append((int(step), value))
    except (OSError, csv.Error, UnicodeDecodeError):
        return TrainingLog()
    return log


class CurvesWidget(QWidget):
    """Two matplotlib panels (training loss; validation metric) that follow a CSV log."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.figure import Figure

        try:
            from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        except ImportError:  # matplotlib < 3.5
            from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg

        self.figure = Figure(figsize=(7, 2.6), dpi=90)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.path = ""
        self.stamp: tuple[float, int] | None = None
        self.log = TrainingLog()
        self.draw()

    def follow(self, path: str) -> None:
        """Plot the log at ``path`` from now on (cleared until it exists)."""
        self.path = path
        self.stamp = None
        self.log = TrainingLog()
        self.draw()

    def refresh(self) -> bool:
        """Re-read the log if it changed since the last look; True when the plot was redrawn."""
        try:
            st = os.stat(self.path) if self.path else None
        except OSError:
            st = None
        stamp = (st.st_mtime, st.st_size) if st else None
        if stamp is None or stamp == self.stamp:
            return False
        self.stamp = stamp
        self.log = read_training_log(self.path, self.log.metric)
        self.draw()
        return True

    def draw(self) -> None:
        self.figure.clear()
        loss_ax, val_ax = self.figure.subplots(1, 2)
        log = self.log
        if log.losses:
            loss_ax.plot([s for s, _ in log.losses], [v for _, v in log.losses], lw=0.8)
        loss_ax.set_title(self.tr("training loss"), fontsize=9)
        if log.validation:
            steps = [s for s, _ in log.validation]
            val_ax.plot(steps, [v for _, v in log.validation], "o-", color="C1")
        val_ax.set_title(
            self.tr("validation {metric}").format(metric=log.metric.removeprefix("val_")),
            fontsize=9,
        )
        for ax in (loss_ax, val_ax):
            ax.set_xlabel(self.tr("optimiser step"), fontsize=8)
            ax.tick_params(labelsize=7)
        self.figure.tight_layout()
        self.canvas.draw_idle()
