"""The style of every output, by kind: which shipped QML files and what is fitted to the data.

Algorithms attach these with :meth:`styling.LayerStyle.attach`; scripts (the demo's project)
apply them with :func:`styling.apply_styles`, so a layer looks the same however it was loaded.
"""

from __future__ import annotations

import math
from functools import partial

from qgis.core import QgsHillshadeRenderer, QgsMapLayer, QgsRasterLayer, QgsUnitTypes

from .qgis_compat import DISTANCE_METERS
from .styling import OutputStyle, band_quantile, stretch_ramp

# Motion within this many sigmas of its uncertainty is drawn transparent.
SIGNIFICANT_SIGMAS = 2.0


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


def fit_significance(layer: QgsMapLayer, unit: str) -> None:
    """The magnitude ramp starts at 2 sigma of the layer's typical uncertainty (hypot of the
    medians of bands 5 and 6; below it the ramp's transparent end) and ends at the 98th
    percentile of the motion above it (the robust maximum of the significant motion), so still
    ground's noise is transparent and the moving ground spans the colours."""
    if not isinstance(layer, QgsRasterLayer):
        return
    sigma = float("nan")
    if layer.bandCount() >= 6:
        sigma = math.hypot(band_quantile(layer, 5, 0.5), band_quantile(layer, 6, 0.5))
    if not (math.isfinite(sigma) and sigma > 0):
        stretch_ramp(layer, unit=unit, lo=0.0)
        return
    lo = SIGNIFICANT_SIGMAS * sigma
    hi = band_quantile(layer, 3, 0.98, floor=lo)
    stretch_ramp(layer, unit=unit, lo=lo, hi=hi if math.isfinite(hi) and hi > lo else None)
    renderer = layer.renderer()
    fcn = renderer.shader().rasterShaderFunction()
    items = fcn.colorRampItemList()
    if items:
        first = items[0]
        items[0] = type(first)(
            first.value,
            first.color,
            f"{first.label} = 2 sigma: below, transparent (within the uncertainty)",
        )
        fcn.setColorRampItemList(items)


def displacement(unit: str = "m") -> list[OutputStyle]:
    """Offsets or velocities (bands: east, north, magnitude, quality, east/north 1-sigma):
    magnitude shown by significance, quality and uncertainty in the layer's style list."""
    return [
        OutputStyle(
            "displacement_magnitude",
            "magnitude",
            partial(fit_significance, unit=unit),
            legend_title=(
                f"Displacement velocity ({unit})"
                if "/" in unit
                else f"Displacement magnitude ({unit})"
            ),
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
