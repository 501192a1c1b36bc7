"""With torch (or rasterio) unimportable, the plugin still loads, lists its algorithms, says what
is missing instead of raising, offers the installer, and leaves the rest of QGIS working."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PLUGINS = ROOT / ".venv" / "qgis-plugins"


def _child_env(blocked: str) -> dict[str, str]:
    env = dict(os.environ)
    env["GEOHAZARD_BLOCK_MODULES"] = blocked
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS / "import_blocker"), env.get("PYTHONPATH", "")])
    env["GEOHAZARD_PLUGINS"] = str(PLUGINS)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.mark.parametrize("blocked", ["torch", "torch,rasterio", "torch,scipy"])
def test_plugin_loads_and_reports_missing_dependency(blocked, tmp_path):
    env = _child_env(blocked)
    env["QGIS_CUSTOM_CONFIG_PATH"] = str(tmp_path / "profile")  # a fresh profile
    proc = subprocess.run(
        [sys.executable, str(TESTS / "plugin_without_deps_probe.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT ") :])

    assert report["blocked_import"] == "No module named 'torch'"  # the blocker works
    assert report["provider"] is True
    assert "geohazard:offsettracking" in report["algorithms"]
    blocked_set = set(blocked.split(","))
    for alg_id, (ok, message) in report["can_execute"].items():
        missing = blocked_set & set(report["requires"][alg_id])
        assert ok is (not missing), alg_id
        for module in missing:
            assert module in message and "not installed" in message
            assert "Install dependencies" in message
    assert report["can_execute"]["geohazard:offsettracking"][0] is False
    assert report["menu_entries"] == [
        "Train a model…",
        "Model manager…",
        "Install dependencies…",
        "Device settings…",
    ]
    # the training dialog and the model manager offer the installer instead of a traceback
    assert report["training_dialog"] is False
    assert len(report["offers_after_clicks"]) == 2
    assert all("torch" in m for m in report["offers_after_clicks"])
    assert len(report["message_bar"]) == 1 and "torch" in report["message_bar"][0]
    # The message bar, the installer and the toolbox name the same missing packages.
    from geohazard.dependencies.requirements import PLUGIN_MODULES

    for module in PLUGIN_MODULES:
        assert (module in report["message_bar"][0]) is (module in blocked_set), module
    assert report["installer_pending"] == [m for m in PLUGIN_MODULES if m in blocked_set]
    named_by_toolbox = {
        m for ok, message in report["can_execute"].values() for m in PLUGIN_MODULES if m in message
    }
    assert named_by_toolbox == blocked_set
    for module in blocked_set:
        assert f"{module}: missing" in report["installer_text"]
    assert "torch" in report["run_error"] and "not installed" in report["run_error"]
    assert report["native_ok"] is True  # QGIS's own algorithms still run
    assert report["heavy_modules_loaded"] == []  # nothing tried to import torch or rasterio
    assert report["unloaded"] is True
    # No traceback from the plugin anywhere in the output (QGIS log goes to stderr).
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
