"""Outputs written by qgis_process carry their style: a .qml beside each file, which QGIS loads
with the layer when it is opened later."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from displacement_rasters import two_lobes
from qgis.core import QgsRasterLayer, QgsVectorLayer
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]


def _qgis_process(alg: str, **params: str) -> None:
    args = [f"{k}={v}" for k, v in params.items()]
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", alg, "--", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_qgis_process_outputs_reopen_with_their_style(tmp_path: Path) -> None:
    shape = (128, 128)
    reference, secondary = write_pair(tmp_path, np.zeros(shape), np.ones(shape))
    offsets = tmp_path / "offsets.tif"
    _qgis_process(
        "geohazard:offsettracking", REFERENCE=reference, SECONDARY=secondary, OUTPUT=str(offsets)
    )
    areas = tmp_path / "areas.gpkg"
    _qgis_process(
        "geohazard:landslideareas",
        INPUT=two_lobes(tmp_path / "lobes.tif"),
        THRESHOLD="0.5",
        OUTPUT=str(areas),
    )
    assert (tmp_path / "offsets.qml").is_file() and (tmp_path / "areas.qml").is_file()
    raster = QgsRasterLayer(str(offsets), "offsets", "gdal")
    assert raster.isValid()
    # without the sidecar a 6-band raster opens as an RGB composite of bands 1-3
    assert raster.renderer().type() == "singlebandpseudocolor"
    assert raster.renderer().band() == 3  # the magnitude
    vector = QgsVectorLayer(str(areas), "areas", "ogr")
    assert vector.isValid()
    kinds = {
        vector.renderer().symbol().symbolLayer(i).layerType()
        for i in range(vector.renderer().symbol().symbolLayerCount())
    }
    assert "LinePatternFill" in kinds  # the hatch, not QGIS's random plain fill


def test_the_help_says_so(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("geohazard:offsettracking")
    assert ".qml" in alg.shortHelpString()
