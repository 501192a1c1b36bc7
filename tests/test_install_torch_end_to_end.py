"""End to end on a QGIS whose Python has no torch: the zip-installed plugin refuses to run, the
installer puts torch into the profile's managed folder with QGIS's own Python, and after that
the algorithm runs in qgis_process, importing torch from that folder.

Slow (installs the 190 MB torch wheel), so it is marked ``slow``: ``scripts/test.sh -m slow``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from geohazard.dependencies.install_run import run_plan
from geohazard.dependencies.managed_folder import managed_folder
from geohazard.dependencies.pip_command import build_plan
from geohazard.dependencies.requirements import BY_MODULE
from geohazard.dependencies.torch_build import choose_build
from test_plugin_zip import _qgis_process, _venv_site, installed_profile, plugin_zip  # noqa: F401

pytestmark = pytest.mark.slow

TORCH_PARTS = ("torch", "torchgen", "functorch")


def _site_without_torch(folder: Path) -> str:
    """The venv's packages minus torch, as links in ``folder`` (QGIS's Python sees these)."""
    folder.mkdir()
    site = Path(_venv_site())
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.split("-")[0] in TORCH_PARTS or name.startswith("torch"):
            continue
        (folder / entry.name).symlink_to(entry)
    return str(folder)


def test_installer_makes_algorithm_runnable(installed_profile, tmp_path, monkeypatch):  # noqa: F811
    import test_plugin_zip
    from sar_pairs import write_pair

    no_torch = _site_without_torch(tmp_path / "site")
    monkeypatch.setattr(test_plugin_zip, "_venv_site", lambda: no_torch)
    ref, sec = write_pair(tmp_path, np.full((96, 96), 1.0), np.zeros((96, 96)))
    args = [
        "--json",
        "run",
        "geohazard:offsettracking",
        "--",
        f"REFERENCE={ref}",
        f"SECONDARY={sec}",
        "WINDOW_SIZES=32",
        "STEP=16",
        "SEARCH=4",
    ]

    before = _qgis_process(installed_profile, *args, f"OUTPUT={tmp_path / 'a.tif'}")
    assert before.returncode != 0
    assert "torch is not installed" in before.stdout + before.stderr

    # QGIS's own interpreter (the one qgis_process embeds), not this test's venv.
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    qgis_python = os.path.join(sys.base_exec_prefix, "bin", f"python{version}")
    assert os.path.exists(qgis_python)
    target = managed_folder(str(installed_profile / "profiles" / "default"))
    # pip's configuration on this machine finds the CPU wheel locally ("default" build).
    steps = build_plan(
        qgis_python, target, [BY_MODULE["torch"]], choose_build(None, override="default")
    )
    lines: list[str] = []
    result = run_plan(steps, line=lines.append)
    assert result.ok, result.message + "\n".join(lines[-40:])
    assert str(result.imported["torch"]["file"]).startswith(target)
    assert "torch 2.13.0" in result.message

    after = _qgis_process(installed_profile, *args, f"OUTPUT={tmp_path / 'b.tif'}")
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    info = json.loads(after.stdout[after.stdout.index("{") :])["log"]["info"]
    assert "Device: auto chose the CPU" in "\n".join(info if isinstance(info, list) else [info])
    assert (tmp_path / "b.tif").exists()
