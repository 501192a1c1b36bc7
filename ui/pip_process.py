"""Runs an install plan in QProcess, one step after the other, without blocking the GUI.

The plan and the judging of its output are in ``dependencies.install_run.PlanRun``; this class
only connects it to QProcess signals and forwards progress, lines and the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from qgis.PyQt.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

from ..dependencies.install_run import InstallResult, PlanRun, child_environment
from ..dependencies.pip_command import InstallStep


class PipProcess(QObject):
    """Signals: ``progress`` (0..1 overall), ``line`` (one output line), ``step`` (its title),
    ``finished`` (an :class:`InstallResult`)."""

    progress = pyqtSignal(float)
    line = pyqtSignal(str)
    step = pyqtSignal(str)
    finished = pyqtSignal(object)

    def __init__(
        self, steps: Sequence[InstallStep], parent: QObject | None = None, proxy: str | None = None
    ) -> None:
        super().__init__(parent)
        self.proxy = proxy
        self.run = PlanRun(steps)
        self.process: QProcess | None = None
        self._buffer = ""
        self._cancelled = False

    def start(self) -> None:
        self._start_step()

    def cancel(self) -> None:
        self._cancelled = True
        if self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()

    def is_running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def _start_step(self) -> None:
        command = self.run.start_step()
        self.step.emit(self.run.step.title)
        self.line.emit(self.run.log[-1])
        proc = QProcess(self)
        env = QProcessEnvironment()
        for key, value in child_environment(proxy=self.proxy).items():
            env.insert(key, value)
        proc.setProcessEnvironment(env)
        proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._step_finished)
        proc.errorOccurred.connect(self._error)
        self.process = proc
        self._buffer = ""
        proc.start(command[0], command[1:])

    def _read(self) -> None:
        if self.process is None:  # output signalled after the process was dropped
            return
        data = bytes(self.process.readAllStandardOutput()).decode("utf-8", errors="replace")
        self._buffer += data.replace("\r\n", "\n").replace("\r", "\n")
        *lines, self._buffer = self._buffer.split("\n")
        for text in lines:
            self._line(text)

    def _line(self, text: str) -> None:
        fraction = self.run.feed(text)
        self.line.emit(text)
        self.progress.emit(fraction)

    def _step_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read()
        if self._buffer:
            self._line(self._buffer)
            self._buffer = ""
        if self._cancelled:
            self.run.cancel()
            self._done()
            return
        if status != QProcess.ExitStatus.NormalExit and code == 0:
            code = -1
        if self.run.finish_step(code):
            self._start_step()
        else:
            self._done()

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            cmd = self.run.step.command[0]
            self.run.result = InstallResult(
                False,
                f"Could not start {cmd}: {self.process.errorString() if self.process else ''}",
            )
            self._done()

    def _done(self) -> None:
        result = self.run.result or InstallResult(False, "The installation stopped unexpectedly.")
        if result.ok:
            self.progress.emit(1.0)
        self.finished.emit(result)
