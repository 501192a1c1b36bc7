#!/usr/bin/env python3
"""Write the shipped graphical model graphical_models/landslide_event.model3 with QGIS's API.

    .venv/bin/python scripts/make_graphical_model.py

The model chains what a geologist runs after an event: DEM super-resolution, the SAR
distortion mask of the super-resolved DEM, SAR-to-optical translation of the post-event SAR
image, offset tracking of the pre/post amplitude pair (classical, and the deep tracker beside
it), landslide areas (with the super-resolved DEM for slope, aspect and the downslope flag) and
displacement arrows. Every child algorithm keeps its own defaults; the model's inputs are the
rasters plus the landslide threshold and minimum area. Open the .model3 in the graphical
modeler to change it.
"""

from __future__ import annotations

import os
import sys

os.environ["QT_HASH_SEED"] = "0"  # XML attributes in a stable order: reruns give no diff
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QPointF  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))
from geohazard.processing_provider.citations import (  # noqa: E402
    AUTORIFT,
    CC_RESSIAMNET,
    COSI_CORR,
    ESRGAN_DEM,
    KROPATSCH_STROBL,
    SARDINET_DEM,
    STUMPF_2017,
    references_html,
)

PATH = os.path.join(ROOT, "graphical_models", "landslide_event.model3")
DOUBLE = QgsProcessingParameterNumber.Type.Double
# The papers and methods behind each step.
CITATIONS = (
    ESRGAN_DEM,
    KROPATSCH_STROBL,
    SARDINET_DEM,
    COSI_CORR,
    AUTORIFT,
    CC_RESSIAMNET,
    STUMPF_2017,
)
# What each model output holds (its name as qgis_process and processing.run take it).
OUTPUTS = {
    "demsr:Super-resolved DEM": (
        "DEM x4 (elevations in metres, pixel size divided by 4), loaded as a hillshade."
    ),
    "distortion:SAR distortion classes": (
        "0 undistorted, 1 foreshortening, 2 layover, 3 shadow on the super-resolved DEM "
        "grid (Sentinel-1 IW descending geometry)."
    ),
    "sar2opt:Optical-like image": (
        "RGB (0-255) predicted from the post-event SAR and the DEM: a prediction, not "
        "an observation."
    ),
    "tracking:Displacement": (
        "East, north offsets and magnitude (m), quality (peak NCC), east and north "
        "1-sigma uncertainty (m) on the grid of window centres."
    ),
    "deeptracking:Deep displacement": (
        "The same six bands from the deep tracker (CC-ResSiamNet), one value per input "
        "pixel: compare it with the classical map where the motion varies within a window."
    ),
    "areas:Landslide areas": (
        "Polygons of moving ground: area (m2), mean and maximum displacement (m), "
        "azimuth (degrees clockwise from north), slope, aspect, downslope flag."
    ),
    "arrows:Displacement arrows": (
        "Points with magnitude (m), azimuth (degrees clockwise from north) and "
        "uncertainty, drawn as arrows."
    ),
}


def outputs_html() -> str:
    """The help's "Outputs" block: each output's name and what it holds, with units."""
    rows = [f"<code>{name}</code>: {text}" for name, text in OUTPUTS.items()]
    return "<b>Outputs</b><br>" + "<br>".join(rows)


def _input(model: QgsProcessingModelAlgorithm, definition, x: float, y: float) -> None:  # noqa: ANN001
    component = QgsProcessingModelParameter(definition.name())
    component.setPosition(QPointF(x, y))
    model.addModelParameter(definition, component)


def _child(
    model: QgsProcessingModelAlgorithm,
    child_id: str,
    alg: str,
    description: str,
    sources: dict[str, QgsProcessingModelChildParameterSource],
    outputs: dict[str, str],
    x: float,
    y: float,
) -> None:
    child = QgsProcessingModelChildAlgorithm(alg)
    child.setChildId(child_id)
    child.setDescription(description)
    child.setPosition(QPointF(x, y))
    for name, source in sources.items():
        child.addParameterSources(name, [source])
    model_outputs = {}
    for output_name, label in outputs.items():
        out = QgsProcessingModelOutput(label)
        out.setChildId(child_id)
        out.setChildOutputName(output_name)
        out.setPosition(QPointF(x + 180, y + 60))
        model_outputs[label] = out
    child.setModelOutputs(model_outputs)
    model.addChildAlgorithm(child)


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("Landslide event workflow", "Workflows", "workflows")
    param = QgsProcessingModelChildParameterSource.fromModelParameter
    child = QgsProcessingModelChildParameterSource.fromChildOutput
    _input(model, QgsProcessingParameterRasterLayer("DEM", "DEM (elevations in metres)"), 80, 60)
    _input(
        model,
        QgsProcessingParameterRasterLayer("SAR", "Post-event SAR (band 1 VV, band 2 VH)"),
        80,
        200,
    )
    _input(
        model,
        QgsProcessingParameterRasterLayer("REFERENCE", "Pre-event SAR amplitude (reference)"),
        80,
        340,
    )
    _input(
        model,
        QgsProcessingParameterRasterLayer("SECONDARY", "Post-event SAR amplitude (secondary)"),
        80,
        420,
    )
    _input(
        model,
        QgsProcessingParameterNumber(
            "THRESHOLD", "Landslide magnitude threshold (m)", DOUBLE, 0.5, minValue=0.0
        ),
        80,
        520,
    )
    _input(
        model,
        QgsProcessingParameterNumber(
            "MIN_AREA", "Landslide minimum area (m2)", DOUBLE, 1000.0, minValue=0.0
        ),
        80,
        580,
    )
    _child(
        model,
        "demsr",
        "geohazard:demsuperresolution",
        "DEM super-resolution",
        {"INPUT": param("DEM")},
        {"OUTPUT": "Super-resolved DEM"},
        360,
        60,
    )
    _child(
        model,
        "distortion",
        "geohazard:sardistortion",
        "SAR layover and shadow",
        {"DEM": child("demsr", "OUTPUT")},
        {"OUTPUT": "SAR distortion classes"},
        640,
        60,
    )
    _child(
        model,
        "sar2opt",
        "geohazard:sartooptical",
        "SAR-to-optical translation",
        {"SAR": param("SAR"), "DEM": param("DEM")},
        {"OUTPUT": "Optical-like image"},
        360,
        200,
    )
    _child(
        model,
        "tracking",
        "geohazard:offsettracking",
        "Offset tracking",
        {"REFERENCE": param("REFERENCE"), "SECONDARY": param("SECONDARY")},
        {"OUTPUT": "Displacement"},
        360,
        380,
    )
    _child(
        model,
        "deeptracking",
        "geohazard:deepoffsettracking",
        "Deep offset tracking",
        {"REFERENCE": param("REFERENCE"), "SECONDARY": param("SECONDARY")},
        {"OUTPUT": "Deep displacement"},
        360,
        520,
    )
    _child(
        model,
        "areas",
        "geohazard:landslideareas",
        "Landslide areas",
        {
            "INPUT": child("tracking", "OUTPUT"),
            "DEM": child("demsr", "OUTPUT"),
            "THRESHOLD": param("THRESHOLD"),
            "MIN_AREA": param("MIN_AREA"),
        },
        {"OUTPUT": "Landslide areas"},
        640,
        380,
    )
    _child(
        model,
        "arrows",
        "geohazard:displacementarrows",
        "Displacement arrows",
        {"INPUT": child("tracking", "OUTPUT")},
        {"OUTPUT": "Displacement arrows"},
        640,
        520,
    )
    model.setHelpContent(
        {
            "ALG_DESC": (
                "After an event: super-resolves the DEM, maps SAR layover and shadow on it, "
                "translates the post-event SAR image into an optical-like image, tracks ground "
                "offsets between the pre- and post-event amplitude images (classical multi-window "
                "NCC, and the deep tracker beside it for comparison), and outlines the "
                "landslide areas (with slope, aspect and a downslope flag from the super-resolved "
                "DEM) and displacement arrows. Each step uses its algorithm's defaults; open the "
                "model in the graphical modeler to change them."
                "<br><br>" + outputs_html() + "<br><br>" + references_html(CITATIONS)
            ),
            "DEM": "<code>DEM</code>: Elevations in metres, any north-up grid with a CRS.",
            "SAR": "<code>SAR</code>: Sentinel-1 sigma0, band 1 VV, band 2 VH, linear or dB.",
            "REFERENCE": "<code>REFERENCE</code>: Amplitude image acquired before the event.",
            "SECONDARY": (
                "<code>SECONDARY</code>: Amplitude image acquired after the event, "
                "on the same grid."
            ),
            "THRESHOLD": (
                "<code>THRESHOLD</code>: Smallest displacement (m) that counts as moving ground."
            ),
            "MIN_AREA": "<code>MIN_AREA</code>: Smaller moving areas (m2) are dropped.",
            "ALG_CREATOR": "Geohazard plugin",
        }
    )
    return model


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    if not build().toFile(PATH):
        print("could not write", PATH)
        return 1
    print("wrote", PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
