"""The installer dialog and the device settings page, in a real (offscreen) QGIS.

The dialog runs pip in QProcess against the local index, into a temporary managed folder, and
the Qt event loop keeps turning meanwhile (the GUI does not freeze).
"""

from __future__ import annotations

import os
import sys

import pytest
from geohazard.dependencies.managed_folder import managed_folder
from geohazard.dependencies.requirements import Requirement
from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QEventLoop, QTimer

LOCAL_INDEX = "/opt/pypi/simple"
PACKAGE, VERSION = "mergedeep", "1.3.4"
PIP_ARGS = ["--index-url", f"file://{LOCAL_INDEX}", "--no-cache-dir"]

needs_local_index = pytest.mark.skipif(
    not os.path.isdir(os.path.join(LOCAL_INDEX, PACKAGE)),
    reason=f"the local package index {LOCAL_INDEX} with {PACKAGE} is not on this machine",
)


def _run_dialog(dialog, timeout_ms: int = 120_000) -> tuple[list[int], int]:
    """Click Install and spin the event loop until pip is done; returns the progress bar values
    seen and how many times a 20 ms timer fired meanwhile (GUI responsiveness)."""
    values: list[int] = []
    ticks = [0]
    dialog.bar.valueChanged.connect(values.append)
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(20)
    loop = QEventLoop()
    dialog.runner_done = False
    assert dialog.install_button.isEnabled()
    dialog.install_button.click()
    dialog.runner.finished.connect(lambda _r: loop.quit())
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    timer.stop()
    return values, ticks[0]


@needs_local_index
def test_dialog_installs_with_live_progress_and_checks_import(qgis_app, tmp_path):
    from geohazard.ui.installer_dialog import InstallerDialog

    target = managed_folder(str(tmp_path / "profile"))
    req = Requirement(PACKAGE, f"{PACKAGE}=={VERSION}", "a small test package")
    dialog = InstallerDialog(None, target=target, requirements=[req], extra_pip_args=PIP_ARGS)
    assert "missing" in dialog.packages.text()
    assert f"Will install: {PACKAGE}=={VERSION}" in dialog.packages.text()
    assert dialog.build_reason.text()  # the torch build choice is explained
    values, ticks = _run_dialog(dialog)

    assert dialog.result is not None and dialog.result.ok, dialog.log.toPlainText()
    assert values and values == sorted(values) and values[-1] == 1000
    assert any(0 < v < 1000 for v in values)  # progress moved while pip ran
    assert ticks >= 5, "the event loop was blocked while pip ran"
    log = dialog.log.toPlainText()
    assert f"Successfully installed {PACKAGE}-{VERSION}" in log
    assert f"All packages import: {PACKAGE} {VERSION}" in dialog.status.text()
    assert os.path.isdir(os.path.join(target, PACKAGE))
    # The folder is now on sys.path (appended) and the package imports in this process.
    import importlib

    mod = importlib.import_module(PACKAGE)
    assert mod.__file__.startswith(target)
    assert "installed" in dialog.packages.text() and dialog.close_button.isEnabled()
    sys.modules.pop(PACKAGE, None)
    sys.path.remove(target)


@needs_local_index
def test_dialog_shows_pips_error(qgis_app, tmp_path):
    from geohazard.ui.installer_dialog import InstallerDialog

    req = Requirement("geohazard_no_such_pkg", "geohazard-no-such-pkg==1.0", "does not exist")
    dialog = InstallerDialog(
        None, target=str(tmp_path / "deps"), requirements=[req], extra_pip_args=PIP_ARGS
    )
    _run_dialog(dialog)
    assert dialog.result is not None and not dialog.result.ok
    assert (
        "No matching distribution found for geohazard-no-such-pkg==1.0" in dialog.log.toPlainText()
    )
    assert dialog.status.text().startswith("Installing geohazard_no_such_pkg failed")
    assert dialog.install_button.isEnabled()  # can try again


def test_device_settings_round_trip(qgis_app):
    from geohazard.settings import DeviceSettings, load_device_settings, save_device_settings
    from geohazard.ui.device_settings import DeviceOptionsFactory, DeviceSettingsDialog

    before = load_device_settings()
    try:
        save_device_settings(DeviceSettings("cuda:1", True, "6 GiB"))
        dialog = DeviceSettingsDialog(None)
        w = dialog.widget
        assert w.current() == DeviceSettings("cuda:1", True, "6 GiB")
        w.device.setCurrentIndex(w.device.findData("cpu"))
        w.mixed.setChecked(False)
        w.cap.setText("lots")
        dialog.accept()  # refused: the cap is not understood
        assert "GPU memory cap 'lots' not understood" in w.error.text()
        assert load_device_settings().device == "cuda:1"
        w.cap.setText("80%")
        dialog.accept()
        assert load_device_settings() == DeviceSettings("cpu", False, "80%")
        assert QgsSettings().value("geohazard/device") == "cpu"
        page = DeviceOptionsFactory().createWidget(None)  # the Options dialog page
        assert page.widget.current() == DeviceSettings("cpu", False, "80%")
    finally:
        save_device_settings(before)


def test_auto_device_parameter_defers_to_settings(qgis_app):
    from geohazard.engine.core.memory_cap import MemoryCap
    from geohazard.processing_provider.offset_tracking import OffsetTrackingAlgorithm
    from geohazard.settings import DeviceSettings, load_device_settings, save_device_settings
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    alg = OffsetTrackingAlgorithm().create()
    before = load_device_settings()
    try:
        save_device_settings(DeviceSettings("mps", True, "50%"))
        ctx, fb = QgsProcessingContext(), QgsProcessingFeedback()
        auto = alg.run_options({"DEVICE": 0}, ctx, fb)
        assert auto.device == "mps"  # auto -> the settings page
        assert auto.mixed_precision and auto.memory_cap == MemoryCap(fraction=0.5)
        assert alg.run_options({"DEVICE": 1}, ctx, fb).device == "cpu"  # explicit choice wins
        assert alg.canExecute() == (True, "")
    finally:
        save_device_settings(before)


def test_plugin_gui_adds_menu_and_options_page(qgis_app, qgis_iface):
    import geohazard

    plug = geohazard.classFactory(qgis_iface)
    plug.initGui()
    assert [a.text() for a in plug.actions] == [
        "Train a model…",
        "Model manager…",
        "Install dependencies…",
        "Device settings…",
    ]
    assert not plug.actions[0].icon().isNull()  # the toolbar button's icon
    assert plug.options_factory is not None
    plug.unload()
    assert plug.actions == [] and plug.options_factory is None


def test_plugin_load_puts_managed_folder_on_sys_path(qgis_app, qgis_iface):
    """What the installer put in the profile's folder is importable once the plugin loads."""
    import importlib
    import shutil

    import geohazard
    from geohazard.settings import dependencies_folder

    folder = dependencies_folder()
    assert folder.endswith(
        os.path.join("python", "dependencies", f"py{sys.version_info[0]}.{sys.version_info[1]}")
    )
    created = not os.path.exists(folder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "geohazard_probe_module.py"), "w") as f:
        f.write("VALUE = 42\n")
    try:
        plug = geohazard.classFactory(qgis_iface)
        assert folder in sys.path
        assert sys.path.index(folder) > sys.path.index(os.path.dirname(os.__file__))  # appended
        assert importlib.import_module("geohazard_probe_module").VALUE == 42
        del plug
    finally:
        sys.modules.pop("geohazard_probe_module", None)
        if folder in sys.path:
            sys.path.remove(folder)
        if created:
            shutil.rmtree(folder)
        else:
            os.remove(os.path.join(folder, "geohazard_probe_module.py"))


def test_dialog_explains_torch_build_and_override(qgis_app, tmp_path):
    from geohazard.dependencies.requirements import BY_MODULE
    from geohazard.ui.installer_dialog import InstallerDialog

    dialog = InstallerDialog(None, target=str(tmp_path / "deps"), requirements=[BY_MODULE["torch"]])
    assert "torch: installed" in dialog.packages.text()  # this venv has torch
    assert "Will install: nothing" in dialog.packages.text()
    assert not dialog.install_button.isEnabled()
    dialog.reinstall.setChecked(True)  # e.g. to switch from the CPU to a CUDA build
    assert "Will install: torch==2.13.0" in dialog.packages.text()
    assert dialog.install_button.isEnabled()
    if dialog.gpu is None:
        assert "No NVIDIA driver found" in dialog.build_reason.text()
        assert "whl/cpu" in dialog.build_reason.text()
    dialog.build.setCurrentIndex(dialog.build.findData("cu128"))
    assert "As chosen: the cu128 build." in dialog.build_reason.text()
    assert "https://download.pytorch.org/whl/cu128" in dialog.build_reason.text()


def test_cancel_stops_a_running_install_without_blocking(qgis_app, tmp_path):
    """Cancel kills pip; the dialog gets a result at once and can close again."""
    import time

    from geohazard.ui.installer_dialog import InstallerDialog

    slow = tmp_path / "slow-python"
    slow.write_text("#!/bin/sh\necho 'pip 99 (pretend)'\nsleep 60\n")
    slow.chmod(0o755)
    req = Requirement("geohazard_never", "geohazard-never==1", "never installed")
    dialog = InstallerDialog(
        None, target=str(tmp_path / "deps"), requirements=[req], python=str(slow)
    )
    dialog.install_button.click()
    assert dialog.busy() and not dialog.close_button.isEnabled()
    loop = QEventLoop()
    dialog.runner.finished.connect(lambda _r: loop.quit())
    QTimer.singleShot(300, dialog.cancel_button.click)
    QTimer.singleShot(20_000, loop.quit)
    started = time.monotonic()
    loop.exec()
    assert time.monotonic() - started < 10
    assert dialog.result is not None and not dialog.result.ok
    assert dialog.result.message.startswith("Cancelled")
    assert not dialog.busy() and dialog.close_button.isEnabled()


def test_hand_picked_python_must_be_the_same_version(qgis_app, tmp_path):
    from geohazard.ui.installer_dialog import InstallerDialog

    other = tmp_path / "python2"
    other.write_text("#!/bin/sh\necho 2 7\necho /opt/old\n")
    other.chmod(0o755)
    req = Requirement(PACKAGE, PACKAGE, "")
    dialog = InstallerDialog(
        None, target=str(tmp_path / "d"), requirements=[req], python=sys.executable
    )
    assert not dialog.use_python(str(other))
    assert "is Python 2.7, QGIS runs" in dialog.status.text()
    assert dialog.python == sys.executable
    assert dialog.use_python(sys.executable)


def test_dialog_suggests_cuda_build_when_gpu_unused(qgis_app, tmp_path, monkeypatch):
    from geohazard.dependencies.requirements import BY_MODULE
    from geohazard.dependencies.torch_build import parse_nvidia_smi
    from geohazard.ui import installer_dialog

    header = "| NVIDIA-SMI 570.86   Driver Version: 570.86   CUDA Version: 12.8 |"
    monkeypatch.setattr(
        installer_dialog,
        "query_gpu",
        lambda timeout=0: parse_nvidia_smi(header, "RTX 3060, 12288 MiB"),
    )
    monkeypatch.setattr(installer_dialog, "_installed_version", lambda m: "2.13.0+cpu")
    dialog = installer_dialog.InstallerDialog(
        None, target=str(tmp_path), requirements=[BY_MODULE["torch"]]
    )
    assert "torch is the CPU build, but an NVIDIA GPU is present" in dialog.packages.text()
    dialog.reinstall.setChecked(True)
    assert "the cu128 build" in dialog.build_reason.text()


def _rendered(label) -> str:  # type: ignore[no-untyped-def]
    """What a rich-text label shows on screen (tags interpreted)."""
    from qgis.PyQt.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def test_plan_shows_every_pin_as_written(qgis_app, tmp_path):
    """ "<1.5, safetensors>" in the plan used to be swallowed as a rich-text tag."""
    from geohazard.dependencies.requirements import REQUIREMENTS
    from geohazard.ui.installer_dialog import InstallerDialog

    dialog = InstallerDialog(None, target=str(tmp_path / "deps"))
    dialog.reinstall.setChecked(True)
    plan = ", ".join(r.pip for r in REQUIREMENTS)
    assert "rasterio>=1.4,<1.5, safetensors>=0.4" in plan
    assert f"Will install: {plan}" in _rendered(dialog.packages)


def test_everything_installed_says_what_torch_is_there(qgis_app, tmp_path):
    from geohazard.ui.installer_dialog import InstallerDialog, _installed_version

    dialog = InstallerDialog(None, target=str(tmp_path / "deps"))  # this venv has everything
    assert "Will install: nothing (all present)" in _rendered(dialog.packages)
    assert not dialog.install_button.isEnabled()
    reason = dialog.build_reason.text()
    assert "not part of this installation" not in reason
    assert f"torch {_installed_version('torch')}" in reason and "is installed" in reason


def test_device_list_shows_what_this_machine_has(qgis_app, monkeypatch):
    from geohazard.dependencies.torch_build import parse_nvidia_smi
    from geohazard.ui import device_settings

    values = [v for v, _label in device_settings.device_entries(None, "linux")]
    assert values == ["auto", "cpu"]  # no GPU, not a Mac: no mps, no cuda:0/cuda:1
    assert [v for v, _l in device_settings.device_entries(None, "darwin")] == ["auto", "cpu", "mps"]
    header = "| NVIDIA-SMI 570.86   Driver Version: 570.86   CUDA Version: 12.8 |"
    two = parse_nvidia_smi(header, "RTX 3060, 12288 MiB\nRTX A4000, 16376 MiB")
    entries = device_settings.device_entries(two, "linux")
    assert [v for v, _l in entries] == ["auto", "cpu", "cuda", "cuda:0", "cuda:1"]
    assert entries[-1][1] == "cuda:1 (RTX A4000)"
    # On this machine (what the widget lists when it opens):
    widget = device_settings.DeviceSettingsWidget()
    listed = [widget.device.itemData(i) for i in range(widget.device.count())]
    gpu = device_settings.query_gpu(timeout=5.0)
    if gpu is None or not gpu.gpus:
        assert listed == ["auto", "cpu"] if sys.platform != "darwin" else ["auto", "cpu", "mps"]


@pytest.mark.parametrize("page_kind", ["dialog", "options page"])
def test_memory_cap_error_wraps_and_is_not_clipped(qgis_app, page_kind):
    from geohazard.ui.device_settings import DeviceOptionsPage, DeviceSettingsDialog
    from qgis.PyQt.QtWidgets import QApplication

    page = DeviceSettingsDialog(None) if page_kind == "dialog" else DeviceOptionsPage(None)
    page.show()
    page.resize(420, page.sizeHint().height())  # a narrow Options dialog
    widget = page.widget
    widget.cap.setText("lots of memory please, as much as you have")
    for _ in range(10):
        QApplication.processEvents()
    error = widget.error
    assert "not understood" in error.text()
    assert page.width() <= 420  # long device labels no longer force the page wider
    assert error.wordWrap()
    assert error.height() >= error.heightForWidth(error.width())  # every line is shown
    assert widget.rect().contains(error.geometry())
    # nothing drawn over it: the next row starts below the message
    from qgis.PyQt.QtWidgets import QWidget

    below = [w for w in widget.findChildren(QWidget) if w.parent() is widget and w is not error]
    for other in below:
        geo = other.geometry()
        if other.isVisible() and geo.top() > error.geometry().top():
            assert geo.top() >= error.geometry().bottom(), other
    page.close()
