"""The real QGIS desktop under Xvfb, used as a geologist uses it (scripts/gui_shots.sh toolbox):
the plugin enabled, the Processing Toolbox open with the Geohazard node expanded, an algorithm
opened FROM THE TOOLBOX tree, its dialog filled and run, the output on the map with its style.
The README's toolbox screenshots come from this script (docs/screenshots/toolbox_*.png).

Slow: QGIS's desktop start alone takes about 10 s, the whole run about 30 s on 2 cores."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from dem_rasters import utm_dem
from qgis.PyQt.QtGui import QImage

ROOT = Path(__file__).resolve().parents[1]


def _distinct_colours(path: Path) -> int:
    image = QImage(str(path))
    assert not image.isNull(), path
    return len(
        {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
    )


@pytest.mark.slow
def test_algorithm_opened_from_the_toolbox_runs_and_shows_its_result(
    qgis_app, tmp_path: Path
) -> None:
    dem = utm_dem(tmp_path / "dem.tif", shape=(96, 96))
    shots = tmp_path / "shots"
    output = tmp_path / "classes.tif"
    params = {"DEM": str(dem), "OUTPUT": str(output)}
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "gui_shots.sh"),
            "toolbox",
            str(shots),
            "geohazard:sardistortion",
            json.dumps(params),
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )
    log = (shots / "gui_log.txt").read_text() if (shots / "gui_log.txt").exists() else ""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = log.splitlines()
    assert lines[-1] == "success", log
    # every Geohazard algorithm is in the toolbox's node, the shipped model included
    listed = next(line for line in lines if line.startswith("toolbox algorithms"))
    for alg in ("sardistortion", "offsettracking", "landslideareas", "landslideevent"):
        assert f"geohazard:{alg}" in listed
    assert "Execution completed" in log
    assert "layers [('classes', 'paletted')]" in log  # loaded under its file name, styled
    assert output.exists()
    for name in ("toolbox.png", "dialog.png", "dialog_log.png", "result.png"):
        assert (shots / name).exists(), name
        image = QImage(str(shots / name))
        assert image.width() >= 800 and image.height() >= 600, name
        assert _distinct_colours(shots / name) > 20, f"{name} looks blank"
