"""Landslide outlines follow the ground, not the displacement raster's pixel grid: a field whose
motion crosses the threshold along a known ellipse gives that ellipse (area and boundary)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from geohazard.engine.io.raster_io import write_raster
from qgis.core import QgsGeometry, QgsPointXY, QgsProcessingFeedback, QgsVectorLayer
from sar_pairs import utm_grid

CELL = 160.0  # m: the tracker's grid of window centres (16 px of 10 m)
SHAPE = (48, 56)
CENTRE = (500_000 + 27.3 * CELL, 4_000_000 - 23.6 * CELL)  # map x, y (not on a cell centre)
SEMI_AXES = (1900.0, 1200.0)  # m, east-west and north-south: where the motion is THRESHOLD
PEAK, THRESHOLD, SIGMA = 20.0, 5.0, 1.0  # m


def _smooth_field(path: Path) -> str:
    """Motion east falling off as a Gaussian bump: magnitude == THRESHOLD on the ellipse."""
    grid = utm_grid(SHAPE, pixel=CELL)
    cols, rows = np.meshgrid(np.arange(SHAPE[1]) + 0.5, np.arange(SHAPE[0]) + 0.5)
    x = grid.transform.c + cols * CELL
    y = grid.transform.f - rows * CELL
    scale = math.sqrt(2 * math.log(PEAK / THRESHOLD))  # the ellipse in units of the bump's sd
    u = (x - CENTRE[0]) / (SEMI_AXES[0] / scale)
    v = (y - CENTRE[1]) / (SEMI_AXES[1] / scale)
    east = PEAK * np.exp(-(u**2 + v**2) / 2)
    north = np.zeros_like(east)
    sigma = np.full_like(east, SIGMA)
    bands = np.stack([east, north, np.hypot(east, north), np.full_like(east, 0.8), sigma, sigma])
    names = [
        "east offset (m)",
        "north offset (m)",
        "magnitude (m)",
        "quality (peak NCC)",
        "east 1-sigma uncertainty (m)",
        "north 1-sigma uncertainty (m)",
    ]
    return write_raster(str(path), bands.astype(np.float32), grid, names)


def _true_outline() -> QgsGeometry:
    t = np.linspace(0, 2 * np.pi, 721)[:-1]
    ring = [
        QgsPointXY(CENTRE[0] + SEMI_AXES[0] * math.cos(a), CENTRE[1] + SEMI_AXES[1] * math.sin(a))
        for a in t
    ]
    return QgsGeometry.fromPolygonXY([ring])


def test_outline_follows_a_known_smooth_ellipse(plugin, tmp_path: Path) -> None:
    import processing

    out = str(tmp_path / "areas.gpkg")
    res = processing.run(
        "geohazard:landslideareas",
        {"INPUT": _smooth_field(tmp_path / "d.tif"), "THRESHOLD": THRESHOLD, "OUTPUT": out},
        feedback=QgsProcessingFeedback(),
    )
    assert res["COUNT"] == 1
    layer = QgsVectorLayer(out, "areas", "ogr")
    feature = next(layer.getFeatures())
    outline, truth = feature.geometry(), _true_outline()
    assert outline.isGeosValid()
    assert outline.area() == pytest.approx(truth.area(), rel=0.01)
    # the boundary within 0.15 of a grid cell of the ellipse everywhere (a staircase of
    # whole cells strays by up to about half a cell)
    assert outline.hausdorffDistance(truth) < 0.15 * CELL, outline.hausdorffDistance(truth)
    assert feature["area_m2"] == pytest.approx(outline.area(), rel=1e-6)
