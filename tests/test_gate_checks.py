"""The project's own gate checks (scripts/qt6_enum_check.py, scripts/tr_check.py): each flags
what it must on a sample, and the plugin's files pass both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

BAD = """
from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterNumber

class A:
    def tr(self, text):
        return QCoreApplication.translate("A", text)  # the wrapper itself is fine

    def init(self, n):
        kind = QgsProcessingParameterNumber.Integer
        ok = QgsProcessingParameterNumber.Type.Double
        flag = QgsProcessingParameterDefinition.FlagAdvanced
        self.tr(f"{n} pixels")
        self.tr("%d pixels" % n)
        self.tr("{n} pixels".format(n=n))
        self.tr("a" + str(n))
        self.tr("{n} pixels").format(n=n)
        self.tr(self.HELP)
"""


def _plugin_py() -> list[str]:
    import plugin_files

    return [str(ROOT / f) for f in plugin_files.plugin_files(".py")]


def test_enum_check_flags_unscoped_members(tmp_path, qgis_app):
    import qt6_enum_check

    path = tmp_path / "bad.py"
    path.write_text(BAD)
    found = qt6_enum_check.unscoped_uses(str(path), qt6_enum_check._modules())
    assert [line.split(": ", 1)[1] for line in found] == [
        "QgsProcessingParameterNumber.Integer -> QgsProcessingParameterNumber.Type.Integer",
        "QgsProcessingParameterDefinition.FlagAdvanced -> "
        "QgsProcessingParameterDefinition.Flag.FlagAdvanced",
    ]


def test_tr_check_flags_texts_built_before_translation(tmp_path):
    import tr_check

    path = tmp_path / "bad.py"
    path.write_text(BAD)
    found = tr_check.non_literal_translations(str(path))
    assert [int(line.split(":")[1]) for line in found] == [12, 13, 14, 15]


def test_plugin_passes_both_checks():
    files = _plugin_py()
    assert any(f.endswith("processing_provider/qgis_compat.py") for f in files)
    for script in ("qt6_enum_check.py", "tr_check.py"):
        proc = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / script), *files],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
