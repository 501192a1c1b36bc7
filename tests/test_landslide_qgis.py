"""geohazard:landslideareas and geohazard:displacementarrows in a real QGIS: processing.run,
the shipped QML styles on load, the azimuth convention of the arrows, and qgis_process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from displacement_rasters import PX, lobe_masks, tilted_dem, two_lobes, uniform
from qgis.core import (
    QgsLinePatternFillSymbolLayer,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsSymbolLayer,
    QgsVectorLayer,
)

ROOT = Path(__file__).resolve().parents[1]


def _layers() -> list:
    return list(QgsProject.instance().mapLayers().values())


def test_landslide_areas_two_lobes_uphill_flag_and_hatch_style(plugin, tmp_path: Path) -> None:
    import processing

    disp = two_lobes(tmp_path / "d.tif")
    dem = tilted_dem(tmp_path / "dem.tif")
    out = str(tmp_path / "areas.gpkg")
    QgsProject.instance().removeAllMapLayers()
    res = processing.runAndLoadResults(
        "geohazard:landslideareas",
        {"INPUT": disp, "DEM": dem, "THRESHOLD": 0.5, "MIN_AREA": 1000, "OUTPUT": out},
        feedback=QgsProcessingFeedback(),
    )
    assert res["COUNT"] == 2
    layer = QgsVectorLayer(out, "areas", "ogr")
    assert layer.isValid() and layer.featureCount() == 2
    a, b = lobe_masks()
    feats = sorted(layer.getFeatures(), key=lambda f: f["azimuth"])
    east, west = feats
    assert east["area_m2"] == pytest.approx(a.sum() * PX * PX, rel=0.02)
    assert west["area_m2"] == pytest.approx(b.sum() * PX * PX, rel=0.02)
    # the polygon outline matches the attribute area (pixels become polygon area exactly)
    assert east.geometry().area() == pytest.approx(east["area_m2"], rel=1e-6)
    assert bool(east["downslope"]) is True and bool(west["downslope"]) is False
    assert east["azimuth"] == pytest.approx(90, abs=1) and west["azimuth"] == pytest.approx(
        270, abs=1
    )
    loaded = _layers()
    # a file the user named loads under its name
    assert len(loaded) == 1 and loaded[0].name() == "areas"
    symbol_layers = loaded[0].renderer().symbol().symbolLayers()
    assert any(isinstance(s, QgsLinePatternFillSymbolLayer) for s in symbol_layers)
    QgsProject.instance().removeAllMapLayers()


def test_landslide_areas_bad_input_is_one_sentence(plugin, tmp_path: Path) -> None:
    import processing

    dem = tilted_dem(tmp_path / "dem.tif")  # one band: not a displacement raster
    with pytest.raises(QgsProcessingException, match="at least 4"):
        processing.run(
            "geohazard:landslideareas",
            {"INPUT": dem, "OUTPUT": str(tmp_path / "x.gpkg")},
            feedback=QgsProcessingFeedback(),
        )
    assert not (tmp_path / "x.gpkg").exists()


@pytest.mark.parametrize(
    ("east", "north", "azimuth"),
    [(0.0, 1.0, 0.0), (1.0, 0.0, 90.0), (0.0, -1.0, 180.0), (-1.0, 0.0, 270.0), (1.0, 1.0, 45.0)],
)
def test_arrows_azimuth_north_up_clockwise(plugin, tmp_path, east, north, azimuth) -> None:
    import processing

    disp = uniform(tmp_path / "u.tif", east, north)
    res = processing.run(
        "geohazard:displacementarrows",
        {"INPUT": disp, "SPACING": 100.0, "OUTPUT": "memory:"},
        feedback=QgsProcessingFeedback(),
    )
    layer = res["OUTPUT"]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer, "a", "ogr")
    # 40 x 60 px of 10 m: 4 x 6 cells of 100 m
    assert layer.featureCount() == 24
    for f in layer.getFeatures():
        assert f["azimuth"] % 360 == pytest.approx(azimuth, abs=1e-4)
        assert f["magnitude"] == pytest.approx((east**2 + north**2) ** 0.5, rel=1e-5)
        assert f["sigma"] == pytest.approx(0.1 * 2**0.5, rel=1e-5)


def test_arrows_loaded_with_rotated_sized_arrow_style(plugin, tmp_path: Path) -> None:
    import processing

    disp = two_lobes(tmp_path / "d.tif")
    out = str(tmp_path / "arrows.gpkg")
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(
        "geohazard:displacementarrows",
        {"INPUT": disp, "SPACING": 50.0, "MIN_MAGNITUDE": 0.5, "OUTPUT": out},
        feedback=QgsProcessingFeedback(),
    )
    layer = QgsVectorLayer(out, "a", "ogr")
    # lobe B (rows 70-99, cols 60-99 of 10 m pixels) fills exactly 6 x 8 cells of 50 m
    west = [f for f in layer.getFeatures() if abs(f["azimuth"] - 270) < 3]
    assert len(west) == 48
    assert all(f["magnitude"] == pytest.approx(1.0, abs=0.05) for f in west)
    loaded = _layers()
    assert len(loaded) == 1 and loaded[0].name() == "arrows"  # the file the user named
    marker = loaded[0].renderer().symbol().symbolLayer(0)
    angle = marker.dataDefinedProperties().property(QgsSymbolLayer.Property.PropertyAngle)
    size = marker.dataDefinedProperties().property(QgsSymbolLayer.Property.PropertySize)
    assert angle.field() == "azimuth" and "magnitude" in size.expressionString()
    QgsProject.instance().removeAllMapLayers()


def test_both_through_the_real_qgis_process(tmp_path: Path) -> None:
    disp = two_lobes(tmp_path / "d.tif", bands=4)
    dem = tilted_dem(tmp_path / "dem.tif")
    tool = str(ROOT / "scripts" / "qgis_process")
    out = tmp_path / "areas.gpkg"
    proc = subprocess.run(
        [tool, "run", "geohazard:landslideareas", "--", f"INPUT={disp}", f"DEM={dem}",
         f"OUTPUT={out}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layer = QgsVectorLayer(str(out), "a", "ogr")
    # 4 bands: no uncertainty mask, so the uncertain 6 x 6 patch is a third area
    assert layer.featureCount() == 3
    arrows = tmp_path / "arrows.gpkg"
    proc = subprocess.run(
        [tool, "run", "geohazard:displacementarrows", "--", f"INPUT={disp}", "SPACING=100",
         f"OUTPUT={arrows}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert QgsVectorLayer(str(arrows), "a", "ogr").featureCount() == 144
