"""The demo's QGIS project and map: styled layers in a .qgz and a PNG exported by the layout."""

from __future__ import annotations

import sys
from pathlib import Path

from displacement_rasters import tilted_dem, two_lobes
from qgis.core import QgsProcessingFeedback, QgsProject
from qgis.PyQt.QtGui import QImage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def test_project_and_map_png(plugin, tmp_path: Path) -> None:
    import processing
    from demo_map import write_project_and_map

    disp = two_lobes(tmp_path / "d.tif")
    dem = tilted_dem(tmp_path / "dem.tif")
    areas, arrows = str(tmp_path / "areas.gpkg"), str(tmp_path / "arrows.gpkg")
    feedback = QgsProcessingFeedback()
    processing.run(
        "geohazard:landslideareas", {"INPUT": disp, "DEM": dem, "OUTPUT": areas}, feedback=feedback
    )
    processing.run(
        "geohazard:displacementarrows",
        {"INPUT": disp, "SPACING": 100, "MIN_MAGNITUDE": 0.5, "OUTPUT": arrows},
        feedback=feedback,
    )
    import numpy as np
    import rasterio

    with rasterio.open(dem) as src:
        profile = src.profile
    classes, rgb = str(tmp_path / "classes.tif"), str(tmp_path / "rgb.tif")
    with rasterio.open(classes, "w", **{**profile, "dtype": "uint8", "nodata": 255}) as dst:
        dst.write((np.arange(src.height * src.width) % 4).reshape(1, src.height, src.width))
    with rasterio.open(rgb, "w", **{**profile, "count": 3}) as dst:
        dst.write(np.full((3, src.height, src.width), 120, np.float32))
    layers = [
        (arrows, "Arrows", "arrows"),
        (areas, "Landslide areas", "landslides"),
        (disp, "Displacement (m)", "displacement"),
        (dem, "DEM", "dem"),
        (classes, "SAR distortion classes", "distortion"),
        (rgb, "Optical-like image", "rgb"),
    ]
    qgz, png = write_project_and_map(str(tmp_path), layers, "Two lobes")
    image = QImage(png)
    assert not image.isNull() and image.width() > 1000
    # a real map: many distinct colours (hillshade greys, magma ramp, hatch, arrows)
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
    }
    assert len(colours) > 50
    project = QgsProject.instance()
    project.clear()
    assert project.read(qgz)
    names = {layer.name(): layer for layer in project.mapLayers().values()}
    assert set(names) == {
        "Arrows",
        "Landslide areas",
        "Displacement (m)",
        "DEM",
        "SAR distortion classes",
        "Optical-like image",
    }
    assert type(names["SAR distortion classes"].renderer()).__name__ == "QgsPalettedRasterRenderer"
    assert type(names["Optical-like image"].renderer()).__name__ == "QgsMultiBandColorRenderer"
    assert type(names["DEM"].renderer()).__name__ == "QgsHillshadeRenderer"
    assert type(names["Displacement (m)"].renderer()).__name__ == "QgsSingleBandPseudoColorRenderer"
    hatch = names["Landslide areas"].renderer().symbol().symbolLayers()
    assert any(type(s).__name__ == "QgsLinePatternFillSymbolLayer" for s in hatch)
    assert project.layoutManager().layoutByName("Geohazard map") is not None
    project.clear()
