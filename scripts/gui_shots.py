"""Run inside the real QGIS desktop (see scripts/gui_shots.sh) to take the screenshots in docs/
that ../shared/tools/gui_shot.sh cannot: enables the plugin, then by SHOT_KIND
  installer  opens Plugins > Geohazard > Install dependencies..., ticks "Install all listed
             packages" so the plan lists every package with its pins -> installer.png
  zoom       runs SHOT_ALG with SHOT_PARAMS and loads the outputs (styled by the plugin), then
             zooms the map SHOT_ZOOM times into the centre -> zoom.png
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


def start() -> None:
    try:
        if "geohazard" not in plugins:
            print("load", loadPlugin("geohazard"), "start", startPlugin("geohazard"), file=log)
        {"installer": installer, "zoom": zoom}[kind]()
    except Exception:
        print(traceback.format_exc(), file=log)
        finish(1)


QTimer.singleShot(4000, start)
