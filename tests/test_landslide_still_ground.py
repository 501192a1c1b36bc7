"""Still ground (the same scene, new speckle, no motion) gives an empty, valid landslide areas
layer: motion counts only where it is significant against the offsets' own uncertainty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.raster_io import write_raster
from geohazard.engine.simulate import sar_amplitude
from qgis.core import QgsProcessingFeedback, QgsVectorLayer
from sar_pairs import utm_grid

SHAPE = (256, 256)


@pytest.mark.parametrize("seed", [3, 11])
def test_still_ground_gives_no_landslide(plugin, tmp_path: Path, seed: int) -> None:
    import processing

    grid = utm_grid(SHAPE, pixel=30.0)
    dem = fractal_terrain(SHAPE, seed, TerrainConfig(relief_m=600.0, base_m=400.0))
    # the same ground seen twice, each time with its own 4-look speckle, nothing moving
    brightness = sar_amplitude.backscatter(dem, 30.0, seed)
    zero = np.zeros(SHAPE)
    pair = sar_amplitude.speckled_pair(brightness, zero, zero, looks=4, coherence=0.0, seed=seed)
    reference, secondary = (
        write_raster(str(tmp_path / f"{name}.tif"), image[None], grid, ["amplitude"])
        for name, image in zip(("reference", "secondary"), pair)
    )
    feedback = QgsProcessingFeedback()
    offsets = processing.run(
        "geohazard:offsettracking",
        {"REFERENCE": reference, "SECONDARY": secondary, "OUTPUT": str(tmp_path / "d.tif")},
        feedback=feedback,
    )["OUTPUT"]
    areas = processing.run(
        "geohazard:landslideareas",
        {"INPUT": offsets, "OUTPUT": str(tmp_path / "areas.gpkg")},
        feedback=feedback,
    )
    layer = QgsVectorLayer(str(tmp_path / "areas.gpkg"), "areas", "ogr")
    assert layer.isValid()
    assert "area_m2" in layer.fields().names()
    assert areas["COUNT"] == 0 and layer.featureCount() == 0, [
        (f["area_m2"], f["mean_disp"]) for f in layer.getFeatures()
    ]


def test_the_rule_is_written_in_the_help(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("geohazard:landslideareas")
    text = alg.shortHelpString()
    assert "sigma" in text and "significan" in text
    assert "1.1%" in text  # the share of still points that pass the default test
