#!/usr/bin/env python3
"""Write the shipped raster styles (styles/*.qml) with QGIS's own renderer classes.

    .venv/bin/python scripts/make_raster_styles.py

Each QML holds everything about a style that does not depend on the data: band, renderer,
colours (with their transparency), legend kind and resampling. Where the limits depend on the
data (a magnitude ramp from 0 to the 98th percentile, a difference ramp symmetric around zero),
the ramp is written over 0..1 (or -1..1) and ``processing_provider/styling.py`` stretches it
onto the layer's values when the layer loads, labelling the legend in the layer's units.

displacement_magnitude: band 3 (magnitude), the perceptual Magma ramp without its near-black
    end, transparent from 0 to 5% of the range and fading in to 20%, so still ground shows the
    hillshade below instead of darkening it; bilinear resampling (cubic overshoots at the
    transparent edges).
displacement_quality: band 4 (peak NCC, 0-1), grey from black (0) to white (1).
displacement_uncertainty: band 5 (east 1-sigma), grey from white (certain) to black.
offsets_per_window: band 1 (east offset of the smallest window), the diverging RdBu ramp.
dem_hillshade: a multidirectional hillshade (the z factor is fitted to the CRS on load).
dem_difference / phase_residual: RdBu symmetric around zero (bands 1 and 3).
phase_wrapped: band 2, a cyclic ramp over -pi..pi (fixed limits).
sar_distortion_classes: the four classes with a categorical palette.
optical_rgb: bands 1, 2, 3 as red, green, blue over 0..255.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

os.environ["QT_HASH_SEED"] = "0"  # attributes in a stable order: reruns give no diff
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsBasicNumericFormat,
    QgsBilinearRasterResampler,
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsCubicRasterResampler,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsHillshadeRenderer,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
)
from qgis.PyQt.QtGui import QColor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = "/vsimem/style_sample.tif"

# The categorical palette of the SAR distortion classes (value, colour, label).
DISTORTION_CLASSES = [
    (0, "#e0e0e0", "undistorted"),
    (1, "#fdae61", "foreshortening"),
    (2, "#d7191c", "layover"),
    (3, "#253494", "shadow"),
]


def sample_layer(bands: int) -> QgsRasterLayer:
    """A small float32 raster with ``bands`` bands to hang a style on."""
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(SAMPLE, 4, 4, bands, gdal.GDT_Float32)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetGeoTransform((500000, 10, 0, 4000000, 0, -10))
    values = np.arange(16, dtype=np.float32).reshape(4, 4) / 15.0
    for band in range(1, bands + 1):
        ds.GetRasterBand(band).WriteArray(values)
        ds.GetRasterBand(band).SetNoDataValue(float("nan"))
    ds = None
    layer = QgsRasterLayer(SAMPLE, "sample", "gdal")
    assert layer.isValid()
    return layer


def smooth(layer: QgsRasterLayer) -> None:
    """Cubic zoomed in, bilinear zoomed out: these are continuous fields."""
    resampler = layer.resampleFilter()
    resampler.setZoomedInResampler(QgsCubicRasterResampler())
    resampler.setZoomedOutResampler(QgsBilinearRasterResampler())
    resampler.setMaxOversampling(2.0)


def ramp_style(
    layer: QgsRasterLayer,
    band: int,
    items: list[tuple[float, QColor]],
    unit: str,
    decimals: int,
    continuous: bool = True,
) -> None:
    """A linear pseudocolour renderer over the given (value, colour) items."""
    lo, hi = items[0][0], items[-1][0]
    fcn = QgsColorRampShader(lo, hi)
    fcn.setColorRampType(QgsColorRampShader.Type.Interpolated)
    stops = [QgsGradientStop((v - lo) / (hi - lo), c) for v, c in items[1:-1]]
    fcn.setSourceColorRamp(QgsGradientColorRamp(items[0][1], items[-1][1], False, stops))
    fcn.setColorRampItemList(
        [
            QgsColorRampShader.ColorRampItem(v, c, f"{v:.{decimals}f} {unit}".strip())
            for v, c in items
        ]
    )
    legend = QgsColorRampLegendNodeSettings()
    legend.setUseContinuousLegend(continuous)
    legend.setSuffix(f" {unit}" if unit else "")
    number_format = QgsBasicNumericFormat()
    number_format.setNumberDecimalPlaces(decimals)
    number_format.setShowTrailingZeros(True)
    legend.setNumericFormat(number_format)
    fcn.setLegendSettings(legend)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fcn)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), band, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    layer.setRenderer(renderer)
    smooth(layer)


def ramp_colours(name: str, start: float, end: float, count: int) -> list[QColor]:
    ramp = QgsStyle.defaultStyle().colorRamp(name)
    return [ramp.color(start + (end - start) * i / (count - 1)) for i in range(count)]


def with_alpha(colour: QColor, alpha: int) -> QColor:
    out = QColor(colour)
    out.setAlpha(alpha)
    return out


def magnitude_items() -> list[tuple[float, QColor]]:
    # Magma from 0.25 (dark purple, readable on a grey hillshade) to 1.0 (pale yellow).
    colours = ramp_colours("Magma", 0.25, 1.0, 7)
    items = [(0.0, with_alpha(colours[0], 0)), (0.05, with_alpha(colours[0], 0))]
    items.append((0.2, with_alpha(colours[1], 255)))
    for i, colour in enumerate(colours[2:], start=1):
        items.append((0.2 + 0.8 * i / 5, colour))
    return items


def diverging_items() -> list[tuple[float, QColor]]:
    colours = ramp_colours("RdBu", 0.0, 1.0, 9)
    return [(-1.0 + 2.0 * i / 8, colour) for i, colour in enumerate(colours)]


def grey_items(reverse: bool) -> list[tuple[float, QColor]]:
    ends = [QColor("#000000"), QColor("#ffffff")]
    if reverse:
        ends.reverse()
    return [(0.0, ends[0]), (1.0, ends[1])]


def cyclic_items() -> list[tuple[float, QColor]]:
    colours = ["#ff0000", "#ffff00", "#00ff00", "#00ffff", "#0000ff", "#ff00ff", "#ff0000"]
    return [
        (-math.pi + 2 * math.pi * i / (len(colours) - 1), QColor(c)) for i, c in enumerate(colours)
    ]


def hillshade_style(layer: QgsRasterLayer) -> None:
    renderer = QgsHillshadeRenderer(layer.dataProvider(), 1, 315.0, 45.0)
    renderer.setMultiDirectional(True)
    layer.setRenderer(renderer)
    smooth(layer)


def classes_style(layer: QgsRasterLayer) -> None:
    classes = [
        QgsPalettedRasterRenderer.Class(value, QColor(colour), label)
        for value, colour, label in DISTORTION_CLASSES
    ]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    # Classes are not continuous: nearest neighbour (no resampler) keeps their edges sharp.


def rgb_style(layer: QgsRasterLayer) -> None:
    provider = layer.dataProvider()
    renderer = QgsMultiBandColorRenderer(provider, 1, 2, 3)
    for band, setter in (
        (1, renderer.setRedContrastEnhancement),
        (2, renderer.setGreenContrastEnhancement),
        (3, renderer.setBlueContrastEnhancement),
    ):
        ce = QgsContrastEnhancement(provider.dataType(band))
        ce.setContrastEnhancementAlgorithm(
            QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum
        )
        ce.setMinimumValue(0.0)
        ce.setMaximumValue(255.0)
        setter(ce)
    layer.setRenderer(renderer)
    smooth(layer)


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    folder = os.path.join(ROOT, "styles")
    os.makedirs(folder, exist_ok=True)

    def save(layer: QgsRasterLayer, name: str) -> None:
        message, ok = layer.saveNamedStyle(os.path.join(folder, name + ".qml"))
        if not ok:
            raise SystemExit(f"{name}: {message}")

    layer = sample_layer(6)
    ramp_style(layer, 3, magnitude_items(), "m", 2)
    # Bilinear both ways: cubic overshoots where the transparent still ground or a NaN cell
    # meets the opaque moving lobe, and the overshoot wraps to false colours (teal spots).
    layer.resampleFilter().setZoomedInResampler(QgsBilinearRasterResampler())
    save(layer, "displacement_magnitude")
    smooth(layer)
    ramp_style(layer, 4, grey_items(reverse=False), "", 1)
    save(layer, "displacement_quality")
    ramp_style(layer, 5, grey_items(reverse=True), "m", 2)
    save(layer, "displacement_uncertainty")
    ramp_style(layer, 1, diverging_items(), "m", 2)
    save(layer, "offsets_per_window")
    ramp_style(layer, 1, diverging_items(), "m", 2)
    save(layer, "dem_difference")
    ramp_style(layer, 3, diverging_items(), "rad", 2)
    save(layer, "phase_residual")
    ramp_style(layer, 2, cyclic_items(), "rad", 2, continuous=False)
    # Bilinear both ways: cubic would ring at the sharp colour jump of each fringe.
    layer.resampleFilter().setZoomedInResampler(QgsBilinearRasterResampler())
    save(layer, "phase_wrapped")
    layer = sample_layer(1)
    hillshade_style(layer)
    save(layer, "dem_hillshade")
    layer = sample_layer(1)
    classes_style(layer)
    save(layer, "sar_distortion_classes")
    layer = sample_layer(3)
    rgb_style(layer)
    save(layer, "optical_rgb")
    print("wrote", folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
