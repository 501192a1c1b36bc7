"""Run in a child process with some modules blocked (tests/import_blocker): loads the plugin as
QGIS does and prints a JSON report of what works. Used by test_plugin_without_deps.py."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from unittest import mock

import qgis.utils
from qgis.core import QgsApplication

app = QgsApplication([], False)
app.initQgis()
sys.path.insert(0, os.environ["GEOHAZARD_PLUGINS"])
sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))  # processing
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()
import processing  # noqa: E402


class Bar:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def pushMessage(self, title, text, level=0, duration=0):  # noqa: N802
        self.messages.append(text)


bar = Bar()
iface = mock.MagicMock()
iface.messageBar.return_value = bar
iface.mainWindow.return_value = None
qgis.utils.iface = iface  # where the plugin reads the interface, as in QGIS

report: dict = {"blocked_import": None}
try:
    import torch  # noqa: F401
except ImportError as exc:
    report["blocked_import"] = str(exc)

import geohazard  # noqa: E402

plugin = geohazard.classFactory(iface)
plugin.initGui()  # desktop path: provider, menu, message bar
registry = QgsApplication.processingRegistry()
provider = registry.providerById("geohazard")
report["provider"] = provider is not None
report["algorithms"] = sorted(a.id() for a in provider.algorithms()) if provider else []
report["can_execute"] = (
    {a.id(): list(a.canExecute()) for a in provider.algorithms()} if provider else {}
)
report["requires"] = (
    {a.id(): list(getattr(a, "REQUIRES", ())) for a in provider.algorithms()} if provider else {}
)
report["menu_entries"] = [c.args[1].text() for c in iface.addPluginToMenu.call_args_list]
report["message_bar"] = list(bar.messages)
# Train a model… and Model manager… offer the installer instead of opening (they need torch).
for action in plugin.actions[:2]:
    action.trigger()
report["training_dialog"] = plugin.training_dialog is not None
report["offers_after_clicks"] = bar.messages[len(report["message_bar"]) :]
# The installer the message bar's button opens: what it will install, as the user reads it.
from geohazard.ui.installer_dialog import InstallerDialog  # noqa: E402
from qgis.PyQt.QtGui import QTextDocument  # noqa: E402

installer = InstallerDialog(None, target=tempfile.mkdtemp())
report["installer_pending"] = [r.module for r in installer.to_install()]
rendered = QTextDocument()
rendered.setHtml(installer.packages.text())
report["installer_text"] = rendered.toPlainText()
out = os.path.join(tempfile.mkdtemp(), "const.tif")
res = processing.run(
    "native:createconstantrasterlayer",
    {
        "EXTENT": "0,10,0,10 [EPSG:32633]",
        "TARGET_CRS": "EPSG:32633",
        "PIXEL_SIZE": 1,
        "NUMBER": 3,
        "OUTPUT": out,
    },
)
report["native_ok"] = os.path.exists(res["OUTPUT"])
try:
    processing.run(
        "geohazard:offsettracking",
        {
            "REFERENCE": res["OUTPUT"],
            "SECONDARY": res["OUTPUT"],
            "OUTPUT": os.path.join(tempfile.gettempdir(), "x.tif"),
        },
    )
    report["run_error"] = None
except Exception as exc:  # QgsProcessingException
    report["run_error"] = str(exc)
report["heavy_modules_loaded"] = sorted(m for m in ("torch", "rasterio") if m in sys.modules)
plugin.unload()
report["unloaded"] = registry.providerById("geohazard") is None
print("REPORT " + json.dumps(report))
app.exitQgis()
