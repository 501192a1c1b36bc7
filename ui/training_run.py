"""Runs a Processing algorithm by id in a background QgsTask and reports on the GUI thread.

The training dialog runs the very algorithm the toolbox, the modeler and ``qgis_process`` run
(``QgsProcessingAlgRunnerTask``), so there is one code path. The feedback's signals are emitted
on the task's thread; every connection to the GUI is queued, so widgets are only touched on the
GUI thread.
"""

from __future__ import annotations

import time
from typing import Any

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
)
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal

QUEUED = Qt.ConnectionType.QueuedConnection


class SignallingFeedback(QgsProcessingFeedback):
    """A Processing feedback whose messages are also signals: ``message(text, is_error)``."""

    message = pyqtSignal(str, bool)

    def pushInfo(self, info: str) -> None:  # noqa: N802 (QGIS API name)
        super().pushInfo(info)
        self.message.emit(info, False)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 (QGIS API name)
        super().pushWarning(warning)
        self.message.emit(warning, False)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        super().reportError(error, fatalError)
        self.message.emit(error, True)


class AlgorithmRun(QObject):
    """One run of algorithm ``alg_id`` with ``parameters``; owns its context and feedback.

    Signals (all delivered on the GUI thread):
        progress(percent, seconds_left): seconds_left is -1 until a rate is known.
        message(text, is_error)
        finished(ok, results)
    """

    progress = pyqtSignal(float, float)
    message = pyqtSignal(str, bool)
    finished = pyqtSignal(bool, dict)

    def __init__(self, alg_id: str, parameters: dict[str, Any], parent: QObject | None = None):
        super().__init__(parent)
        self.alg_id = alg_id
        self.parameters = dict(parameters)
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        self.feedback = SignallingFeedback()
        self.feedback.progressChanged.connect(self._on_progress, QUEUED)
        self.feedback.message.connect(self.message, QUEUED)
        self.task: QgsProcessingAlgRunnerTask | None = None
        self.running = False
        self._first: tuple[float, float] | None = None

    def start(self) -> bool:
        """Queue the task in QGIS's task manager; False (with a message) if it cannot start."""
        alg = QgsApplication.processingRegistry().createAlgorithmById(self.alg_id)
        if alg is None:
            self.message.emit(
                self.tr("The algorithm {id} is not available.").format(id=self.alg_id), True
            )
            return False
        ok, why = alg.checkParameterValues(self.parameters, self.context)
        if not ok:  # as Processing's own dialog checks them before running
            self.message.emit(why, True)
            return False
        task = QgsProcessingAlgRunnerTask(alg, self.parameters, self.context, self.feedback)
        if task.isCanceled():  # prepare() refused the parameters (the feedback says why)
            self.message.emit(self.tr("The algorithm refused these parameters."), True)
            return False
        task.executed.connect(self._on_executed, QUEUED)
        self.task = task
        self.running = True
        self._first = None
        QgsApplication.taskManager().addTask(task)
        return True

    def cancel(self) -> None:
        """Ask the algorithm to stop (training writes its checkpoint first)."""
        self.feedback.cancel()

    def _on_progress(self, percent: float) -> None:
        now = time.monotonic()
        if self._first is None or percent < self._first[1]:
            self._first = (now, percent)
        t0, p0 = self._first
        left = -1.0
        if percent > p0 and now > t0:
            left = (now - t0) / (percent - p0) * (100.0 - percent)
        self.progress.emit(percent, left)

    def _on_executed(self, ok: bool, results: dict) -> None:
        self.running = False
        self.task = None  # the task manager deletes the task
        self.finished.emit(bool(ok), dict(results or {}))
