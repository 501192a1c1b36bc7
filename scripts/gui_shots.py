"""Run inside the real QGIS desktop (see scripts/gui_shots.sh) to take the screenshots in docs/
that ../shared/tools/gui_shot.sh cannot: enables the plugin, then by SHOT_KIND
  installer  opens Plugins > Geohazard > Install dependencies..., ticks "Install all listed
             packages" so the plan lists every package with its pins -> installer.png
  zoom       runs SHOT_ALG with SHOT_PARAMS and loads the outputs (styled by the plugin), then
             zooms the map SHOT_ZOOM times into the centre -> zoom.png
  training   loads SHOT_PARAMS["DEM"] as a layer, opens Plugins > Geohazard > Train a model...
             for SHOT_ALG, types SHOT_PARAMS["VALUES"] into its widgets, clicks Train, and grabs
             the dialog once SHOT_PARAMS["VALIDATIONS"] validations are on the live curves
             -> training.png (and training_window.png), then cancels
  reopen     opens the files SHOT_PARAMS["FILES"] (written earlier, e.g. by qgis_process) as a user
             does with Layer > Add Layer, so QGIS loads the .qml style beside each file, then
             zooms SHOT_ZOOM times into the last file's extent -> reopen.png
  toolbox    as a user does it: opens the Processing Toolbox panel, expands the Geohazard
             provider node and its groups -> toolbox.png; selects SHOT_ALG in the tree and opens
             its dialog from there (the toolbox's own double-click action), fills SHOT_PARAMS
             -> dialog.png; clicks Run, waits for "Execution completed" in the dialog's log
             -> dialog_log.png; closes the dialog -> result.png (the output on the map, styled
             by the plugin). The log ends with "success" when every step passed.
The PNGs go to SHOT_DIR; gui_log.txt says what happened.
"""

import json
import os
import traceback

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, loadPlugin, plugins, startPlugin

out = os.environ.get("SHOT_DIR", "/tmp/shots")
os.makedirs(out, exist_ok=True)
kind = os.environ.get("SHOT_KIND", "installer")
log = open(os.path.join(out, "gui_log.txt"), "w")


def finish(code: int = 0) -> None:
    log.close()
    QgsApplication.instance().exit(code)


def installer() -> None:
    from geohazard.ui.installer_dialog import InstallerDialog

    dialog = InstallerDialog(iface.mainWindow())
    dialog.reinstall.setChecked(True)
    dialog.show()
    dialog.resize(760, dialog.sizeHint().height())

    def grab() -> None:
        dialog.grab().save(os.path.join(out, "installer.png"))
        print("plan", dialog.packages.text(), file=log)
        dialog.close()
        finish()

    QTimer.singleShot(1500, grab)


def zoom() -> None:
    import processing

    iface.mainWindow().resize(1600, 1000)
    result = processing.runAndLoadResults(
        os.environ["SHOT_ALG"], json.loads(os.environ.get("SHOT_PARAMS", "{}"))
    )
    print("result", result, file=log)

    def zoom_in() -> None:  # once QGIS has set the canvas to the new layer
        canvas = iface.mapCanvas()
        canvas.zoomToFullExtent()
        canvas.zoomByFactor(1.0 / float(os.environ.get("SHOT_ZOOM", "8")))
        print("scale", canvas.scale(), file=log)
        QTimer.singleShot(4000, grab)

    def grab() -> None:
        iface.mainWindow().grab().save(os.path.join(out, "zoom.png"))
        finish()

    QTimer.singleShot(2000, zoom_in)


def reopen() -> None:
    params = json.loads(os.environ.get("SHOT_PARAMS", "{}"))
    iface.mainWindow().resize(1600, 1000)
    last = None
    for path in params["FILES"]:
        name = os.path.splitext(os.path.basename(path))[0]
        if path.endswith((".tif", ".tiff")):
            last = iface.addRasterLayer(path, name)
        else:
            last = iface.addVectorLayer(path, name, "ogr")
        print("opened", path, last.isValid(), last.renderer().type(), file=log)

    def zoom_in() -> None:
        canvas = iface.mapCanvas()
        extent = last.extent()
        extent.scale(float(os.environ.get("SHOT_ZOOM", "1")))
        canvas.setExtent(extent)
        canvas.refresh()
        QTimer.singleShot(4000, grab)

    def grab() -> None:
        iface.mainWindow().grab().save(os.path.join(out, "reopen.png"))
        finish()

    QTimer.singleShot(2000, zoom_in)


def training() -> None:
    from qgis.core import QgsProject, QgsRasterLayer

    params = json.loads(os.environ.get("SHOT_PARAMS", "{}"))
    iface.mainWindow().resize(1600, 1000)
    layer = QgsRasterLayer(params["DEM"], os.path.splitext(os.path.basename(params["DEM"]))[0])
    QgsProject.instance().addMapLayer(layer)
    iface.mapCanvas().zoomToFullExtent()
    plugin = plugins["geohazard"]
    plugin.show_training()
    dialog = plugin.training_dialog
    dialog.task_box.setCurrentIndex(dialog.task_box.findData(os.environ["SHOT_ALG"]))
    dialog.fields["INPUT"].widget.setCheckedItems([layer.name()])
    for name, value in params.get("VALUES", {}).items():
        if name == "OUTPUT_MODEL":
            dialog.output_model.setText(value)
        elif name == "BASE_MODEL":
            dialog.base_model.setEditText(value)
        else:
            dialog.fields[name].set_value(value)
    dialog.resize(1250, 800)
    dialog.train_button.click()
    wanted = int(params.get("VALIDATIONS", 2))

    def poll() -> None:
        shown = len(dialog.curves.log.validation)
        if dialog.running() and shown < wanted:
            QTimer.singleShot(500, poll)
            return
        QTimer.singleShot(300, grab)

    def grab() -> None:
        dialog.grab().save(os.path.join(out, "training.png"))
        iface.mainWindow().grab().save(os.path.join(out, "training_window.png"))
        print("status", dialog.status.text(), file=log)
        print("validations", dialog.curves.log.validation, file=log)
        dialog.cancel()
        wait_stopped()

    def wait_stopped() -> None:
        if dialog.running():
            QTimer.singleShot(500, wait_stopped)
            return
        print("after cancel", dialog.status.text(), file=log)
        finish()

    QTimer.singleShot(500, poll)


def say(*parts: object) -> None:
    print(*parts, file=log, flush=True)


def toolbox() -> None:
    from processing.core.ProcessingConfig import ProcessingConfig
    from qgis.core import QgsProject
    from qgis.gui import QgsProcessingAlgorithmDialogBase
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtWidgets import QApplication, QDialogButtonBox, QTextEdit
    from qgis.utils import plugins as loaded

    window = iface.mainWindow()
    window.resize(1600, 1000)
    # Keep the dialog open after the run, so that its log can be seen (and photographed).
    ProcessingConfig.setSettingValue(ProcessingConfig.KEEP_DIALOG_OPEN, True)
    panel = loaded["processing"].toolbox
    panel.setVisible(True)
    panel.raise_()
    window.resizeDocks([panel], [440], Qt.Orientation.Horizontal)
    tree = panel.algorithmTree
    model = tree.model()
    provider = None
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data() == "Geohazard":
            provider = index
        else:
            tree.setExpanded(index, False)
    if provider is None:
        raise RuntimeError("no Geohazard node in the Processing toolbox")
    tree.setExpanded(provider, True)
    target = None
    algorithms = []
    for row in range(model.rowCount(provider)):
        group = model.index(row, 0, provider)
        tree.setExpanded(group, True)
        for child_row in range(max(model.rowCount(group), 1)):
            child = model.index(child_row, 0, group) if model.rowCount(group) else group
            alg = tree.algorithmForIndex(child)
            if alg is not None:
                algorithms.append(alg.id())
                if alg.id() == os.environ["SHOT_ALG"]:
                    target = child
    say("toolbox algorithms", algorithms)
    if target is None:
        raise RuntimeError(f"{os.environ['SHOT_ALG']} is not in the Geohazard node")
    tree.setCurrentIndex(target)
    tree.scrollTo(target)
    params = json.loads(os.environ.get("SHOT_PARAMS", "{}"))
    state = {"waited": 0}

    def dialog():  # type: ignore[no-untyped-def]
        """The algorithm dialog the toolbox opened."""
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QgsProcessingAlgorithmDialogBase) and widget.isVisible():
                return widget
        raise RuntimeError("the toolbox opened no algorithm dialog")

    def guarded(step):  # type: ignore[no-untyped-def]
        """Run a timed step; any error goes to the log and ends QGIS with status 1."""

        def run() -> None:
            try:
                step()
            except Exception:
                say(traceback.format_exc())
                for widget in QApplication.topLevelWidgets():
                    if isinstance(widget, QgsProcessingAlgorithmDialogBase):
                        widget.close()
                finish(1)

        return run

    def shoot_toolbox() -> None:
        window.grab().save(os.path.join(out, "toolbox.png"))
        say("toolbox.png")
        QTimer.singleShot(2000, guarded(fill))
        # Opens the dialog as a double click in the tree does; returns when it closes.
        panel.executeAlgorithm()
        say("dialog closed")
        QTimer.singleShot(3000, guarded(shoot_result))

    def fill() -> None:
        dlg = dialog()
        say("dialog", type(dlg).__name__, dlg.windowTitle())
        dlg.resize(1000, 760)
        dlg.setParameters(params)
        QTimer.singleShot(1000, guarded(shoot_dialog))

    def shoot_dialog() -> None:
        dlg = dialog()
        dlg.grab().save(os.path.join(out, "dialog.png"))
        say("dialog.png")
        dlg.findChild(QDialogButtonBox, "mButtonBox").button(
            QDialogButtonBox.StandardButton.Ok
        ).click()
        QTimer.singleShot(1000, guarded(wait_for_run))

    def wait_for_run() -> None:
        dlg = dialog()
        text = "\n".join(w.toPlainText() for w in dlg.findChildren(QTextEdit))
        if "Execution completed" in text or "Execution failed" in text or state["waited"] > 240:
            say("run log:", text[-1500:])
            state["ok"] = "Execution completed" in text
            dlg.grab().save(os.path.join(out, "dialog_log.png"))
            say("dialog_log.png")
            QTimer.singleShot(500, dlg.close)
            return
        state["waited"] += 1
        QTimer.singleShot(1000, guarded(wait_for_run))

    def shoot_result() -> None:
        layers = list(QgsProject.instance().mapLayers().values())
        say("layers", [(layer.name(), layer.renderer().type()) for layer in layers])
        if layers:
            iface.setActiveLayer(layers[0])
            iface.mapCanvas().setExtent(layers[0].extent())
            iface.mapCanvas().refresh()
        QTimer.singleShot(3000, lambda: finish_result(bool(layers)))

    def finish_result(loaded_any: bool) -> None:
        window.grab().save(os.path.join(out, "result.png"))
        say("result.png")
        if state.get("ok") and loaded_any:
            say("success")
            finish(0)
        else:
            say("failure")
            finish(1)

    QTimer.singleShot(1500, guarded(shoot_toolbox))


def start() -> None:
    try:
        if "geohazard" not in plugins:
            print("load", loadPlugin("geohazard"), "start", startPlugin("geohazard"), file=log)
        kinds = {
            "installer": installer,
            "zoom": zoom,
            "toolbox": toolbox,
            "training": training,
            "reopen": reopen,
        }
        kinds[kind]()
    except Exception:
        print(traceback.format_exc(), file=log)
        finish(1)


QTimer.singleShot(4000, start)
