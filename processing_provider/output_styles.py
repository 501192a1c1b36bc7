"""The style of every output, by kind: which shipped QML files and what is fitted to the data.

Algorithms attach these with :meth:`styling.LayerStyle.attach`; scripts (the demo's project)
apply them with :func:`styling.apply_styles`, so a layer looks the same however it was loaded.
"""

from __future__ import annotations

import math
from functools import partial

from qgis.core import QgsHillshadeRenderer, QgsMapLayer, QgsRasterLayer, QgsUnitTypes

from .qgis_compat import DISTANCE_METERS
from .styling import OutputStyle, stretch_ramp


def metres_per_map_unit(layer: QgsRasterLayer) -> float:
    """How many metres one horizontal map unit is (degrees converted at the layer's latitude)."""
    crs = layer.crs()
    if crs.isGeographic():
        lat = layer.extent().center().y()
        return 111_320.0 * math.sqrt(max(math.cos(math.radians(lat)), 1e-6))
    factor = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), DISTANCE_METERS)
    return factor if factor > 0 else 1.0


def fit_hillshade(layer: QgsMapLayer) -> None:
    """Elevations are in metres: on a degree grid the z factor converts them to map units."""
    renderer = layer.renderer()
    if isinstance(renderer, QgsHillshadeRenderer):
        renderer.setZFactor(1.0 / metres_per_map_unit(layer))


def displacement(unit: str = "m") -> list[OutputStyle]:
    """Offsets or velocities (bands: east, north, magnitude, quality, east/north 1-sigma):
    magnitude shown, quality and uncertainty in the layer's style list."""
    return [
        OutputStyle(
            "displacement_magnitude", "magnitude", partial(stretch_ramp, unit=unit, lo=0.0)
        ),
        OutputStyle("displacement_quality", "quality (peak NCC)", None, min_bands=4),
        OutputStyle(
            "displacement_uncertainty",
            "east uncertainty (1-sigma)",
            partial(stretch_ramp, unit=unit, lo=0.0),
            min_bands=5,
        ),
    ]


def offsets_per_window(unit: str = "m") -> list[OutputStyle]:
    """East offset of the smallest window, diverging around zero."""
    return [
        OutputStyle(
            "offsets_per_window", "east offset", partial(stretch_ramp, unit=unit, symmetric=True)
        )
    ]


DEM = [OutputStyle("dem_hillshade", "hillshade", fit_hillshade)]
DEM_DIFFERENCE = [
    OutputStyle("dem_difference", "difference", partial(stretch_ramp, symmetric=True))
]
PHASE_WRAPPED = [OutputStyle("phase_wrapped", "wrapped phase")]
PHASE_RESIDUAL = [
    OutputStyle("phase_residual", "residual phase", partial(stretch_ramp, symmetric=True))
]
DISTORTION_CLASSES = [OutputStyle("sar_distortion_classes", "classes")]
OPTICAL_RGB = [OutputStyle("optical_rgb", "RGB")]
LANDSLIDE_AREAS = [OutputStyle("landslide_areas", "hatch")]
DISPLACEMENT_ARROWS = [OutputStyle("displacement_arrows", "arrows")]

# By the kind names the demo's map uses.
BY_KIND = {
    "dem": DEM,
    "displacement": displacement("m"),
    "velocity": displacement("m/yr"),
    "distortion": DISTORTION_CLASSES,
    "rgb": OPTICAL_RGB,
    "landslides": LANDSLIDE_AREAS,
    "arrows": DISPLACEMENT_ARROWS,
}
