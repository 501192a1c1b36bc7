"""Temporary files are created exclusively under unique names and never followed through a
symlink: the evaluation report, every raster output, the installer's pip
constraints file."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np
from dem_rasters import utm_dem
from geohazard.engine.io.raster_io import RasterWriter, inspect_raster
from run_checks import run

VICTIM = b"a file the user owns, which a planted symlink points to\n"


def test_report_partial_symlink_is_not_followed(plugin, tmp_path: Path) -> None:
    dem = utm_dem(tmp_path / "dem.tif", shape=(32, 32))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    out = tmp_path / "out"
    out.mkdir()
    report = out / "report.html"
    planted = out / "report.html.partial"  # the fixed temporary name used before
    planted.symlink_to(victim)
    run(
        "geohazard:evaluatedem",
        {"INPUT": dem, "REFERENCE": dem, "OUTPUT": str(out / "d.tif"), "REPORT": str(report)},
    )
    assert victim.read_bytes() == VICTIM, "the symlink was followed and its target overwritten"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert report.is_file() and not report.is_symlink() and "DEM evaluation" in report.read_text()


def test_raster_outputs_are_staged_in_a_private_folder(tmp_path: Path) -> None:
    grid = inspect_raster(utm_dem(tmp_path / "dem.tif", shape=(16, 16))).grid
    dest = tmp_path / "out.tif"
    with (
        RasterWriter(str(dest), grid, ["z"]) as first,
        RasterWriter(str(dest), grid, ["z"]) as second,
    ):
        for writer in (first, second):
            staged = writer.staged
            assert staged is not None
            info = os.lstat(staged.tmpdir)
            assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
            assert os.path.dirname(staged.tmpdir) == str(tmp_path)
            assert os.path.basename(staged.tmpdir).startswith(".out.tif.")
        assert first.staged.tmp != second.staged.tmp  # two runs never share a temporary file
        first.write(np.zeros((16, 16), np.float32))
        second.write(np.ones((16, 16), np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "out.tif"]


def test_installer_constraints_file_is_unique_and_not_followed(
    qgis_app, tmp_path: Path, monkeypatch
) -> None:
    from geohazard.dependencies.managed_folder import managed_folder
    from geohazard.dependencies.requirements import Requirement
    from geohazard.ui.installer_dialog import InstallerDialog
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    shared = tmp_path / "shared-tmp"  # stands for the shared temp folder (/tmp)
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)
    fixed = shared / "geohazard-pip-constraints.txt"  # the fixed name used before
    fixed.symlink_to(victim)
    req = Requirement("mergedeep", "mergedeep==1.3.4", "a small test package")
    dialog = InstallerDialog(
        None,
        target=managed_folder(str(tmp_path / "profile")),
        requirements=[req],
        extra_pip_args=["--no-index"],
        python=sys.executable,
    )
    dialog.start()
    used = dialog.constraints_file
    assert used and os.path.dirname(used) == str(shared) and used != str(fixed)
    assert os.path.isfile(used) and not os.path.islink(used)
    assert stat.S_IMODE(os.lstat(used).st_mode) == 0o600
    assert any(used in step.command for step in dialog.runner.run.steps)
    loop = QEventLoop()
    dialog.runner.finished.connect(lambda _r: loop.quit())
    QTimer.singleShot(60_000, loop.quit)
    dialog.cancel()
    if dialog.busy():
        loop.exec()
    assert not os.path.exists(used), "the constraints file was left in the temp folder"
    assert victim.read_bytes() == VICTIM, "the installer wrote through a planted symlink"
    assert sorted(p.name for p in shared.iterdir()) == ["geohazard-pip-constraints.txt"]
