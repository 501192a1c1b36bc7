"""Run inside the real QGIS desktop (scripts/time_series_shots.sh) for the time series
screenshots in docs/screenshots: runs geohazard:displacementtimeseries with SHOT_PARAMS and
loads its outputs as the dialog does, opens the Temporal Controller, sets it to animate one
frame per acquisition interval (SHOT_DAYS days), and grabs the main window at a few frames
-> temporal_<frame>.png; then shows the HTML report in a web view -> report.png.
gui_log.txt says what happened and ends with "success".
"""

import json
import os
import traceback

from qgis.core import QgsApplication, QgsDateTimeRange, QgsInterval, QgsProject
from qgis.PyQt.QtCore import QTimer, QUrl
from qgis.PyQt.QtWidgets import QAction
from qgis.utils import iface, loadPlugin, plugins, startPlugin

out = os.environ.get("SHOT_DIR", "/tmp/shots")
os.makedirs(out, exist_ok=True)
params = json.loads(os.environ.get("SHOT_PARAMS", "{}"))
days = int(os.environ.get("SHOT_DAYS", "30"))
frames = [int(f) for f in os.environ.get("SHOT_FRAMES", "3,6,11").split(",")]
log = open(os.path.join(out, "gui_log.txt"), "w")
state = {}


def say(*args):
    print(*args, file=log, flush=True)


def finish(code=0):
    log.close()
    QgsApplication.instance().exit(code)


def run():
    try:
        if "geohazard" not in plugins:
            say("load", loadPlugin("geohazard"), "start", startPlugin("geohazard"))
        import processing

        iface.mainWindow().resize(1600, 1000)
        res = processing.runAndLoadResults("geohazard:displacementtimeseries", params)
        say("result", res)
        state["report"] = res.get("REPORT")
        layers = [
            lyr
            for lyr in QgsProject.instance().mapLayers().values()
            if lyr.temporalProperties().isActive()
        ]
        say("temporal layers", sorted(lyr.name() for lyr in layers))
        for lyr in QgsProject.instance().mapLayers().values():  # the velocity would cover them
            if not lyr.temporalProperties().isActive():
                node = QgsProject.instance().layerTreeRoot().findLayer(lyr.id())
                node.setItemVisibilityChecked(False)
        starts = sorted(lyr.temporalProperties().fixedTemporalRange().begin() for lyr in layers)
        action = iface.mainWindow().findChild(QAction, "mActionTemporalController")
        if action is not None and not action.isChecked():
            action.trigger()
        nav = iface.mapCanvas().temporalController()
        nav.setNavigationMode(nav.NavigationMode.Animated)
        nav.setTemporalExtents(QgsDateTimeRange(starts[0], starts[-1].addDays(days)))
        nav.setFrameDuration(QgsInterval(days * 86400))
        iface.mapCanvas().zoomToFullExtent()
        state["frames"] = list(frames)
        QTimer.singleShot(2000, next_frame)
    except Exception:
        say(traceback.format_exc())
        finish(1)


def next_frame():
    if not state["frames"]:
        QTimer.singleShot(500, report)
        return
    frame = state["frames"].pop(0)
    iface.mapCanvas().temporalController().setCurrentFrameNumber(frame)
    QTimer.singleShot(3000, lambda: grab(frame))


def grab(frame):
    rng = iface.mapCanvas().temporalRange()
    say("frame", frame, rng.begin().toString("yyyy-MM-dd"), rng.end().toString("yyyy-MM-dd"))
    iface.mainWindow().grab().save(os.path.join(out, f"temporal_{frame}.png"))
    next_frame()


def report():
    try:
        path = state.get("report")
        try:
            from qgis.PyQt.QtWebKitWidgets import QWebView

            view = QWebView()
            view.load(QUrl.fromLocalFile(path))
            say("report in QWebView")
        except ImportError:
            from qgis.PyQt.QtWidgets import QTextBrowser

            view = QTextBrowser()
            view.setHtml(open(path, encoding="utf-8").read())
            say("report in QTextBrowser")
        view.resize(1000, 900)
        view.show()
        state["view"] = view
        QTimer.singleShot(
            3000,
            lambda: (view.grab().save(os.path.join(out, "report.png")), say("success"), finish(0)),
        )
    except Exception:
        say(traceback.format_exc())
        finish(1)


QTimer.singleShot(4000, run)
