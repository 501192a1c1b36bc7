"""Every output of the shipped workflow loads with its style when the model runs from the
toolbox (runAndLoadResults): the post-processors the child algorithms attach reach the layers.

The other algorithms' outputs (DEM evaluation difference, topographic phase, per-size offsets)
are checked in their own test files."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsHillshadeRenderer,
    QgsLinePatternFillSymbolLayer,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingFeedback,
    QgsProject,
    QgsSingleBandPseudoColorRenderer,
    QgsSymbolLayer,
)
from test_shipped_model import ALG, _inputs

OUTPUTS = (
    "demsr:Super-resolved DEM",
    "distortion:SAR distortion classes",
    "sar2opt:Optical-like image",
    "tracking:Displacement",
    "deeptracking:Deep displacement",
    "areas:Landslide areas",
    "arrows:Displacement arrows",
)


def _style_of(layer) -> str:  # noqa: ANN001
    renderer = layer.renderer()
    if isinstance(renderer, QgsHillshadeRenderer):
        return "hillshade"
    if isinstance(renderer, QgsPalettedRasterRenderer):
        return "classes"
    if isinstance(renderer, QgsMultiBandColorRenderer):
        return "rgb"
    if isinstance(renderer, QgsSingleBandPseudoColorRenderer):
        return f"pseudocolor band {renderer.band()}"
    symbol = getattr(renderer, "symbol", lambda: None)()
    if symbol is not None:
        layers = symbol.symbolLayers()
        if any(isinstance(s, QgsLinePatternFillSymbolLayer) for s in layers):
            return "hatch"
        angle = layers[0].dataDefinedProperties().property(QgsSymbolLayer.Property.PropertyAngle)
        if angle.isActive() and angle.field() == "azimuth":
            return "arrows"
    return type(renderer).__name__


def test_every_workflow_output_loads_styled(plugin, tmp_path: Path) -> None:
    import processing

    params = _inputs(tmp_path / "in")
    ext = {"areas:Landslide areas": "gpkg", "arrows:Displacement arrows": "gpkg"}
    outputs = {
        name: str(tmp_path / f"o{i}.{ext.get(name, 'tif')}") for i, name in enumerate(OUTPUTS)
    }
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(
        ALG, {**params, "THRESHOLD": 10.0, **outputs}, feedback=QgsProcessingFeedback()
    )
    styles = {}
    for layer in QgsProject.instance().mapLayers().values():
        source = layer.source().split("|")[0]
        name = next(k for k, v in outputs.items() if v == source)
        styles[name] = _style_of(layer)
    QgsProject.instance().removeAllMapLayers()
    assert styles == {
        "demsr:Super-resolved DEM": "hillshade",
        "distortion:SAR distortion classes": "classes",
        "sar2opt:Optical-like image": "rgb",
        "tracking:Displacement": "pseudocolor band 3",
        "deeptracking:Deep displacement": "pseudocolor band 3",
        "areas:Landslide areas": "hatch",
        "arrows:Displacement arrows": "arrows",
    }
