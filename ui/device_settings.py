"""Device settings: a widget used both as a page of QGIS's Options dialog and as a dialog.

Stores in QgsSettings under ``geohazard/`` (see ``settings.py``). Never imports torch: GPUs are
listed from ``nvidia-smi`` and the memory cap is checked with the torch-free parser.
"""

from __future__ import annotations

import sys

from qgis.gui import QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtGui import QIcon, QResizeEvent
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..dependencies.torch_build import GpuReport, query_gpu
from ..engine.core.errors import GeohazardError
from ..engine.core.memory_cap import parse_memory_cap
from ..icons import plugin_icon_path
from ..settings import DeviceSettings, load_device_settings, save_device_settings

PAGE_TITLE = "Geohazard"
PAGE_OBJECT_NAME = "geohazardOptions"


def device_entries(
    report: GpuReport | None | bool = True, platform: str = sys.platform
) -> list[tuple[str, str]]:
    """(value, label) for the device combo box: what this machine has.

    auto and cpu always; mps only on macOS (Apple Silicon GPUs); cuda and one cuda:N per GPU
    only when ``nvidia-smi`` lists GPUs. Any other device (e.g. cuda:3) can still be typed.

    Args:
        report: the GPU query (``True``: ask ``nvidia-smi`` now; None: no NVIDIA driver).
        platform: ``sys.platform`` of the machine.
    """
    if report is True:
        report = query_gpu(timeout=5.0)
    names = list(report.gpus) if isinstance(report, GpuReport) else []
    mac = platform == "darwin"
    fallback = "Apple MPS, else CPU" if mac else "CPU"
    entries = [("auto", f"auto: CUDA GPU if torch sees one, else {fallback}"), ("cpu", "cpu")]
    if mac:
        entries.append(("mps", "mps: Apple Silicon GPU"))
    if names:
        entries.append(("cuda", "cuda: the current CUDA GPU"))
        for i, name in enumerate(names):
            entries.append((f"cuda:{i}", f"cuda:{i} ({name.split(',')[0].strip()})"))
    return entries


class WrappingLabel(QLabel):
    """A word-wrapped label that claims the height its text needs at its current width, so a
    long message grows the page (or its scroll area) instead of being clipped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt API name)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API name)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        old = self.minimumHeight()
        self.setMinimumHeight(0)  # QLabel never reports a height below its minimum
        height = max(self.heightForWidth(self.width()), 0) if self.text() else 0
        self.setMinimumHeight(height if height != old else old)


class DeviceSettingsWidget(QWidget):
    """Device, mixed precision and GPU memory cap, loaded from and saved to QgsSettings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = QComboBox(self)
        self.device.setEditable(True)  # cuda:N beyond the listed GPUs can be typed
        # Long labels must not force the page wider than the Options dialog.
        self.device.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.device.setMinimumContentsLength(16)
        for value, label in device_entries():
            self.device.addItem(label, value)
        self.mixed = QCheckBox("Mixed precision on the GPU", self)
        self.mixed.setToolTip("float16/bfloat16 on the GPU: faster and less memory")
        self.cap = QLineEdit(self)
        self.cap.setPlaceholderText("no cap; e.g. 0.8, 80% or 6 GiB")
        self.error = WrappingLabel(self)
        self.error.setStyleSheet("color: #b00020")
        note = WrappingLabel(self)
        note.setText(
            "Used by every Geohazard algorithm whose Device parameter is left on auto. "
            "Mixed precision (float16/bfloat16) is faster and needs less GPU memory. "
            "The log of each run says which device ran and why."
        )
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Device", self.device)
        form.addRow("", self.mixed)
        form.addRow("GPU memory cap", self.cap)
        # The error spans the whole width and wraps, so a long message is never clipped.
        form.addRow(self.error)
        form.addRow(note)
        self.cap.textChanged.connect(self._check_cap)
        self.load(load_device_settings())

    def load(self, settings: DeviceSettings) -> None:
        index = self.device.findData(settings.device)
        if index >= 0:
            self.device.setCurrentIndex(index)
        else:
            self.device.setEditText(settings.device)
        self.device.lineEdit().setCursorPosition(0)  # show the start of a long label
        self.mixed.setChecked(settings.mixed_precision)
        self.cap.setText(settings.memory_cap)

    def current(self) -> DeviceSettings:
        text = self.device.currentText().strip()
        data = self.device.currentData()
        label = self.device.itemText(self.device.currentIndex())
        value = data if data and text == label else text.split(" ")[0].lower()
        return DeviceSettings(value or "auto", self.mixed.isChecked(), self.cap.text().strip())

    def _check_cap(self) -> bool:
        try:
            parse_memory_cap(self.cap.text())
        except GeohazardError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        return True

    def save(self) -> bool:
        """Store the settings; False (nothing stored) when the memory cap is not understood."""
        if not self._check_cap():
            return False
        save_device_settings(self.current())
        return True


class DeviceSettingsDialog(QDialog):
    """Plugins > Geohazard > Device settings..."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Geohazard device settings")
        self.widget = DeviceSettingsWidget(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.widget)
        layout.addWidget(buttons)

    def accept(self) -> None:
        if self.widget.save():
            super().accept()


class DeviceOptionsPage(QgsOptionsPageWidget):
    """The same widget as a page of Settings > Options; QGIS calls apply() on OK."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(PAGE_OBJECT_NAME)  # iface.showOptionsDialog(currentPage=...) finds it
        self.widget = DeviceSettingsWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget)

    def apply(self) -> None:
        self.widget.save()


class DeviceOptionsFactory(QgsOptionsWidgetFactory):
    def __init__(self) -> None:
        super().__init__(PAGE_TITLE, QIcon(plugin_icon_path()))

    def createWidget(self, parent: QWidget | None = None) -> DeviceOptionsPage:  # noqa: N802
        return DeviceOptionsPage(parent)
