"""The live plot of a training run: training loss and the validation metric per optimiser step.

The engine rewrites the CSV log atomically after every validation (``engine/models/training/
finetune.py``: ``live_log``), with the columns ``step``, ``stage``, ``loss`` and ``val_*`` on the
steps that validated. The dialog polls the file with a timer and redraws when it changed.
The plot is painted with QPainter, so a redraw never holds up QGIS.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field

from qgis.PyQt.QtCore import QPointF, QRectF, Qt
from qgis.PyQt.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from qgis.PyQt.QtWidgets import QSizePolicy, QWidget


@dataclass
class TrainingLog:
    """What the plot shows, read from the CSV log."""

    losses: list[tuple[int, float]] = field(default_factory=list)
    metric: str = ""
    validation: list[tuple[int, float]] = field(default_factory=list)


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


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high] (1, 2 or 5 times a power of 10)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step + 1e-9) + 1)]


class CurvesWidget(QWidget):
    """Two panels (training loss; validation metric) that follow a CSV log.

    Drawn with QPainter: a redraw costs well under a millisecond, so following the log never
    holds up QGIS's event loop (a matplotlib redraw took about half a second here).
    """

    MARGIN_LEFT = 58
    MARGIN_BOTTOM = 34
    MARGIN_TOP = 22
    MARGIN_RIGHT = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.path = ""
        self.stamp: tuple[float, int] | None = None
        self.log = TrainingLog()

    def follow(self, path: str) -> None:
        """Plot the log at ``path`` from now on (cleared until it exists)."""
        self.path = path
        self.stamp = None
        self.log = TrainingLog()
        self.update()

    def refresh(self) -> bool:
        """Re-read the log if it changed since the last look; True when it did."""
        try:
            st = os.stat(self.path) if self.path else None
        except OSError:
            st = None
        stamp = (st.st_mtime, st.st_size) if st else None
        if stamp is None or stamp == self.stamp:
            return False
        self.stamp = stamp
        self.log = read_training_log(self.path, self.log.metric)
        self.update()
        return True

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        half = self.width() // 2
        metric = self.log.metric.removeprefix("val_") or self.tr("metric")
        if metric.endswith("_m"):
            metric = metric[:-2] + " (m)"
        self._panel(
            painter,
            QRectF(0, 0, half, self.height()),
            self.tr("training loss"),
            self.log.losses,
            QColor("#1f77b4"),
            False,
        )
        self._panel(
            painter,
            QRectF(half, 0, self.width() - half, self.height()),
            self.tr("validation {metric}").format(metric=metric),
            self.log.validation,
            QColor("#e07b00"),
            True,
        )
        painter.end()

    def _panel(
        self,
        painter: QPainter,
        area: QRectF,
        title: str,
        points: list[tuple[int, float]],
        color: QColor,
        markers: bool,
    ) -> None:
        painter.save()
        try:
            self._draw_panel(painter, area, title, points, color, markers)
        finally:
            painter.restore()

    def _draw_panel(
        self,
        painter: QPainter,
        area: QRectF,
        title: str,
        points: list[tuple[int, float]],
        color: QColor,
        markers: bool,
    ) -> None:
        text = self.palette().text().color()
        box = area.adjusted(
            self.MARGIN_LEFT, self.MARGIN_TOP, -self.MARGIN_RIGHT, -self.MARGIN_BOTTOM
        )
        painter.setPen(text)
        painter.drawText(
            QRectF(area.left(), area.top(), area.width(), self.MARGIN_TOP),
            int(Qt.AlignmentFlag.AlignCenter),
            title,
        )
        painter.drawText(
            QRectF(box.left(), area.bottom() - 16, box.width(), 16),
            int(Qt.AlignmentFlag.AlignCenter),
            self.tr("optimiser step"),
        )
        painter.setPen(QPen(QColor("#999999"), 1))
        painter.drawRect(box)
        if not points:
            painter.setPen(text)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), self.tr("waiting for data…"))
            return
        xs = [float(s) for s, _ in points]
        ys = [v for _, v in points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        if x1 <= x0:
            x0, x1 = x0 - 1, x1 + 1
        pad = (y1 - y0) * 0.08 or max(abs(y0) * 0.05, 1e-6)
        y0, y1 = y0 - pad, y1 + pad

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                box.left() + (x - x0) / (x1 - x0) * box.width(),
                box.bottom() - (y - y0) / (y1 - y0) * box.height(),
            )

        small = painter.font()
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 6))
        painter.setFont(small)
        for tick in nice_ticks(y0, y1):
            at = to_screen(x0, tick)
            painter.setPen(QPen(QColor("#e4e4e4"), 1))
            painter.drawLine(QPointF(box.left(), at.y()), QPointF(box.right(), at.y()))
            painter.setPen(text)
            painter.drawText(
                QRectF(area.left(), at.y() - 8, self.MARGIN_LEFT - 4, 16),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                f"{tick:.3g}",
            )
        for tick in nice_ticks(x0, x1):
            at = to_screen(tick, y0)
            painter.drawText(
                QRectF(at.x() - 30, box.bottom() + 2, 60, 14),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                f"{tick:.0f}",
            )
        painter.setPen(QPen(color, 1.6))
        screen = [to_screen(x, y) for x, y in zip(xs, ys)]
        painter.drawPolyline(QPolygonF(screen))
        if markers:
            painter.setBrush(color)
            for at in screen:
                painter.drawEllipse(at, 3.5, 3.5)
