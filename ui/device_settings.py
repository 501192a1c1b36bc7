"""Device settings: a widget used both as a page of QGIS's Options dialog and as a dialog.

Stores in QgsSettings under ``geohazard/`` (see ``settings.py``). Never imports torch: GPUs are
listed from ``nvidia-smi`` and the memory cap is checked with the torch-free parser.
"""

from __future__ import annotations

from qgis.gui import QgsOptionsPageWidget, QgsOptionsWidgetFactory
from qgis.PyQt.QtGui import QIcon
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

from ..dependencies.torch_build import query_gpu
from ..engine.errors import GeohazardError
from ..engine.memory_cap import parse_memory_cap
from ..icons import plugin_icon_path
from ..settings import DeviceSettings, load_device_settings, save_device_settings

PAGE_TITLE = "Geohazard"
PAGE_OBJECT_NAME = "geohazardOptions"


def device_entries() -> list[tuple[str, str]]:
    """(value, label) for the device combo box: auto, cpu, mps, and one cuda:N per GPU."""
    entries = [
        ("auto", "auto: CUDA GPU if torch sees one, else Apple MPS, else CPU"),
        ("cpu", "cpu"),
        ("mps", "mps: Apple Silicon GPU (macOS)"),
        ("cuda", "cuda: the current CUDA GPU"),
    ]
    report = query_gpu(timeout=5.0)
    names = list(report.gpus) if report else []
    for i, name in enumerate(names or ["", ""]):
        entries.append((f"cuda:{i}", f"cuda:{i}" + (f" ({name.split(',')[0]})" if name else "")))
    return entries


class DeviceSettingsWidget(QWidget):
    """Device, mixed precision and GPU memory cap, loaded from and saved to QgsSettings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device = QComboBox(self)
        self.device.setEditable(True)  # cuda:N beyond the listed GPUs can be typed
        for value, label in device_entries():
            self.device.addItem(label, value)
        self.mixed = QCheckBox(
            "Mixed precision (float16/bfloat16 on the GPU: faster, less memory)", self
        )
        self.cap = QLineEdit(self)
        self.cap.setPlaceholderText("no cap; e.g. 0.8, 80% or 6 GiB")
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        note = QLabel(
            "Used by every Geohazard algorithm whose Device parameter is left on auto. "
            "The log of each run says which device ran and why.",
            self,
        )
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Device", self.device)
        form.addRow("", self.mixed)
        form.addRow("GPU memory cap", self.cap)
        form.addRow("", self.error)
        form.addRow(note)
        self.cap.textChanged.connect(self._check_cap)
        self.load(load_device_settings())

    def load(self, settings: DeviceSettings) -> None:
        index = self.device.findData(settings.device)
        if index >= 0:
            self.device.setCurrentIndex(index)
        else:
            self.device.setEditText(settings.device)
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
