"""The demo's QGIS project and map from the SHIPPED model's outputs: the outputs of
geohazard:landslideevent (run here through processing.run on small rasters; the README's demo
runs it through qgis_process, tests/test_demo.py) go into a .qgz with every layer styled as the
plugin styles it, and a PNG with a legend exported by QGIS's print layout."""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import QgsProcessingFeedback, QgsProject
from qgis.PyQt.QtGui import QImage
from test_shipped_model import ALG, _inputs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def test_project_and_map_of_the_shipped_model(plugin, tmp_path: Path) -> None:
    import processing
    from demo_map import write_project_and_map
    from demo_workflow import OUTPUTS

    outputs = {name: str(tmp_path / file) for name, file, _, _ in OUTPUTS}
    processing.run(
        ALG,
        {**_inputs(tmp_path / "in"), "THRESHOLD": 10.0, "MIN_AREA": 5000.0, **outputs},
        feedback=QgsProcessingFeedback(),
    )
    layers = [(outputs[name], layer, kind) for name, _, layer, kind in OUTPUTS]
    qgz, png = write_project_and_map(str(tmp_path), layers, "Shipped model")
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
    assert set(names) == {layer for _, _, layer, _ in OUTPUTS}
    renderers = {name: type(layer.renderer()).__name__ for name, layer in names.items()}
    assert renderers == {
        "Displacement arrows": "QgsSingleSymbolRenderer",
        "Landslide areas": "QgsSingleSymbolRenderer",
        "Displacement magnitude (m)": "QgsSingleBandPseudoColorRenderer",
        "Deep tracker displacement magnitude (m)": "QgsSingleBandPseudoColorRenderer",
        "Super-resolved DEM x4 (hillshade)": "QgsHillshadeRenderer",
        "SAR distortion classes": "QgsPalettedRasterRenderer",
        "Optical-like image (predicted)": "QgsMultiBandColorRenderer",
    }
    hatch = names["Landslide areas"].renderer().symbol().symbolLayers()
    assert any(type(s).__name__ == "QgsLinePatternFillSymbolLayer" for s in hatch)
    magnitude = names["Displacement magnitude (m)"]
    # the quality and uncertainty styles travel in the project too
    assert len(magnitude.styleManager().styles()) == 3
    legend = magnitude.renderer().shader().rasterShaderFunction().legendSettings()
    assert legend.suffix() == " m" and legend.numericFormat().numberDecimalPlaces() <= 2
    assert project.layoutManager().layoutByName("Geohazard map") is not None
    project.clear()
