"""Plugins > Geohazard > Install dependencies...: shows what is missing and what will be
installed, lets the user override the torch build, and runs pip with live progress and log.

Thin: the choices (QGIS's Python, torch build, pip commands) come from ``dependencies/``; pip
runs in QProcess (``pip_process.PipProcess``), so the QGIS window stays responsive.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence
from importlib import metadata

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..dependencies.install_run import InstallResult
from ..dependencies.managed_folder import activate
from ..dependencies.pip_command import (
    build_plan,
    constraints_text,
    remove_quietly,
    write_constraints_file,
)
from ..dependencies.python_finder import find_qgis_python, rejection, running_interpreter
from ..dependencies.requirements import REQUIREMENTS, Requirement, is_available, missing_modules
from ..dependencies.torch_build import BUILD_CHOICES, TorchBuild, choose_build, query_gpu
from .pip_process import PipProcess


def _installed_version(module: str) -> str | None:
    if not is_available(module):
        return None
    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "present"


class InstallerDialog(QDialog):
    """The dependency installer.

    Args:
        parent: the QGIS main window.
        target: the folder to install into (default: the profile's managed folder).
        requirements: what to offer (default: everything the plugin uses).
        extra_pip_args: passed to every pip install (tests point pip at a local index).
        python: QGIS's Python (default: found by ``find_qgis_python``).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        target: str | None = None,
        requirements: Sequence[Requirement] = REQUIREMENTS,
        extra_pip_args: Sequence[str] = (),
        python: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Geohazard: install Python packages")
        self.setMinimumWidth(640)
        if target is None:
            from ..settings import dependencies_folder

            target = dependencies_folder()
        self.target = target
        self.requirements = list(requirements)
        self.extra_pip_args = list(extra_pip_args)
        finding = find_qgis_python() if python is None else None
        self.python = python or (finding.executable if finding else None)
        self.gpu = query_gpu(timeout=10.0)
        self.runner: PipProcess | None = None
        self.result: InstallResult | None = None
        self.constraints_file: str | None = None  # unique per run, deleted when pip is done

        self.packages = QLabel(self)
        self.packages.setTextFormat(Qt.TextFormat.RichText)
        self.packages.setWordWrap(True)
        self.reinstall = QCheckBox("Install all listed packages, also those already present", self)
        self.build = QComboBox(self)
        for choice in BUILD_CHOICES:
            self.build.addItem(choice, choice)
        self.build_reason = QLabel(self)
        self.build_reason.setWordWrap(True)
        self.where = QLabel(self)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_python = QPushButton("Choose Python…", self)
        self.choose_python.setToolTip(
            "Only if QGIS's Python was not found: pick the python executable of this QGIS "
            "installation (same Python version)."
        )
        self._show_where()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.install_button = QPushButton("Install", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.close_button = QPushButton("Close", self)
        self.cancel_button.setEnabled(False)

        form = QFormLayout()
        form.addRow("Packages", self.packages)
        form.addRow("", self.reinstall)
        form.addRow("torch build", self.build)
        form.addRow("", self.build_reason)
        where_row = QHBoxLayout()
        where_row.addWidget(self.where, 1)
        where_row.addWidget(self.choose_python, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("Where", where_row)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.install_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(self.log, 1)
        layout.addLayout(buttons)

        self.build.currentIndexChanged.connect(self.refresh)
        self.reinstall.toggled.connect(self.refresh)
        self.install_button.clicked.connect(self.start)
        self.choose_python.clicked.connect(self.pick_python)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        if finding is not None and finding.executable is None:
            self.log.appendPlainText(finding.explain())
        self.refresh()

    def _show_where(self) -> None:
        self.where.setText(
            f"Python: {self.python or '<i>not found</i>'}<br>Into: {self.target}<br>"
            "(a folder of this QGIS profile, added to Python's path when the plugin loads; "
            "QGIS's own packages are not touched)"
        )

    def pick_python(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "QGIS's Python interpreter")
        if path:
            self.use_python(path)

    def use_python(self, path: str) -> bool:
        """Use a hand-picked interpreter if it is the same Python version as QGIS's."""
        why = rejection(path, running_interpreter(), same_prefix=False)
        if why is not None:
            self.status.setText(f"{path} cannot be used: it {why}.")
            return False
        self.python = path
        self._show_where()
        self.status.setText("")
        self.refresh()
        return True

    # --- what will be installed ------------------------------------------------------

    def torch_build(self) -> TorchBuild:
        return choose_build(self.gpu, override=self.build.currentData() or "auto")

    def to_install(self) -> list[Requirement]:
        if self.reinstall.isChecked():
            return list(self.requirements)
        missing = set(missing_modules([r.module for r in self.requirements]))
        return [r for r in self.requirements if r.module in missing]

    def refresh(self) -> None:
        # Rich text (for the bold "missing"): every name and pin is escaped, or "<1.5, ..." in
        # "rasterio>=1.4,<1.5" would be read as a tag and vanish.
        rows = []
        for req in self.requirements:
            version = _installed_version(req.module)
            state = f"installed ({html.escape(version)})" if version else "<b>missing</b>"
            rows.append(f"{html.escape(req.module)}: {state} — {html.escape(req.purpose)}")
        pending = self.to_install()
        plan = html.escape(", ".join(r.pip for r in pending)) or "nothing (all present)"
        self.packages.setText(
            "<br>".join(rows) + f"<br><br>Will install: {plan}" + self._gpu_hint()
        )
        has_torch = any(r.module == "torch" for r in pending)
        self.build.setEnabled(has_torch and not self.busy())
        self.build_reason.setText(self._build_text(pending, has_torch))
        can = bool(pending) and self.python is not None and not self.busy()
        self.install_button.setEnabled(can)
        if self.python is None:
            self.status.setText("QGIS's Python interpreter was not found; see the log below.")

    def _build_text(self, pending: list[Requirement], has_torch: bool) -> str:
        """Which torch build will be installed and why, or what is there when none will be."""
        if has_torch:
            build = self.torch_build()
            index = f" Index: {build.index_url}" if build.index_url else ""
            return build.reason + index
        if not any(r.module == "torch" for r in self.requirements):
            return "torch is not part of this installation."
        version = _installed_version("torch")
        if version and version != "present":
            kind = "CPU build" if "+cpu" in version else "build"
            return (
                f"torch {version} ({kind}) is installed. To change the build (e.g. CPU to CUDA), "
                "tick the box above."
            )
        return "torch is installed."

    def _gpu_hint(self) -> str:
        """Say so when torch is a CPU build although nvidia-smi reports a CUDA-capable driver."""
        version = (
            _installed_version("torch")
            if any(r.module == "torch" for r in self.requirements)
            else None
        )
        if not version or "+cpu" not in version or self.gpu is None or self.gpu.cuda is None:
            return ""
        return (
            "<br><b>torch is the CPU build, but an NVIDIA GPU is present</b>: tick the box above "
            "to install the CUDA build and use the GPU."
        )

    def busy(self) -> bool:
        return self.runner is not None and self.runner.is_running()

    # --- running ---------------------------------------------------------------------

    def start(self) -> None:
        pending = self.to_install()
        if not pending or self.python is None:
            return
        remove_quietly(self.constraints_file)
        self.constraints_file = constraints = write_constraints_file(constraints_text())
        torch = self.torch_build() if any(r.module == "torch" for r in pending) else None
        steps = build_plan(
            self.python, self.target, pending, torch, constraints, self.extra_pip_args
        )
        self.log.clear()
        self.result = None
        self.bar.setValue(0)
        from ..settings import qgis_proxy_url

        self.runner = PipProcess(steps, self, proxy=qgis_proxy_url())
        self.runner.progress.connect(lambda f: self.bar.setValue(int(round(1000 * f))))
        self.runner.line.connect(self.log.appendPlainText)
        self.runner.step.connect(self.status.setText)
        self.runner.finished.connect(self.finished)
        for w in (
            self.install_button,
            self.build,
            self.reinstall,
            self.close_button,
            self.choose_python,
        ):
            w.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.runner.start()

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def finished(self, result: InstallResult) -> None:
        self.result = result
        remove_quietly(self.constraints_file)
        self.constraints_file = None
        self.cancel_button.setEnabled(False)
        for w in (self.build, self.reinstall, self.close_button, self.choose_python):
            w.setEnabled(True)
        if result.ok:
            activate(self.target)
            reloaded = [m for m in result.imported if m in sys.modules]
            text = result.message
            if reloaded:
                text += (
                    f" Restart QGIS to use the new {', '.join(reloaded)}: an older copy is "
                    "already loaded in this session."
                )
            self.status.setText(text)
        else:
            self.status.setText(result.message.splitlines()[0])
        self.log.appendPlainText("\n" + result.message)
        self.refresh()

    def reject(self) -> None:
        if self.busy():
            return  # Close is disabled while pip runs; Esc must not orphan it either
        super().reject()
