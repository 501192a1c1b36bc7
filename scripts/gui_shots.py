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
The PNGs go to SHOT_DIR.
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


def start() -> None:
    try:
        if "geohazard" not in plugins:
            print("load", loadPlugin("geohazard"), "start", startPlugin("geohazard"), file=log)
        {"installer": installer, "zoom": zoom, "training": training}[kind]()
    except Exception:
        print(traceback.format_exc(), file=log)
        finish(1)


QTimer.singleShot(4000, start)
