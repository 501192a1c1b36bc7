"""The demo's map export prints no GDAL error a user would read as a failure, and its legend
titles say what each layer is."""

from __future__ import annotations

import sys
from pathlib import Path

from displacement_rasters import tilted_dem, two_lobes
from qgis.PyQt.QtGui import QImage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def test_map_export_prints_no_error(plugin, tmp_path: Path, capfd) -> None:
    from demo_map import write_project_and_map

    layers = [
        (two_lobes(tmp_path / "d.tif"), "Displacement magnitude (m)", "displacement"),
        (tilted_dem(tmp_path / "dem.tif"), "DEM (hillshade)", "dem"),
    ]
    capfd.readouterr()
    _, png = write_project_and_map(str(tmp_path), layers, "Two lobes")
    out, err = capfd.readouterr()
    assert "ERROR" not in out + err, out + err
    assert not QImage(png).isNull()
