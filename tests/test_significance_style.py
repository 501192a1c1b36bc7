"""Displacement outputs load styled by significance: transparent up to 2 sigma of the typical
uncertainty, the ramp up to the robust maximum of the significant motion, the legend saying so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from processing_runs import run_and_load, to_load
from sar_pairs import write_pair


def test_tracker_output_ramp_runs_from_two_sigma_to_the_moving_ground(
    plugin, tmp_path: Path
) -> None:
    from qgis.core import QgsApplication

    shape = (192, 192)
    rr, cc = np.mgrid[0 : shape[0], 0 : shape[1]]
    lobe = ((rr - 96) ** 2 + (cc - 96) ** 2 <= 40**2).astype(np.float64)  # moves 2 px = 20 m
    reference, secondary = write_pair(tmp_path, np.zeros(shape), 2.0 * lobe)
    out = str(tmp_path / "d.tif")
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:offsettracking")
    run_and_load(alg, {"REFERENCE": reference, "SECONDARY": secondary, "OUTPUT": to_load(out)})
    from processing_runs import loaded_layer

    renderer = loaded_layer(out).renderer()
    with rasterio.open(out) as src:
        sigma = np.hypot(np.nanmedian(src.read(5)), np.nanmedian(src.read(6)))
    assert abs(renderer.classificationMin() - 2 * sigma) < 0.25 * sigma + 0.05
    assert renderer.classificationMax() > 15.0  # the lobe's 20 m, not the still ground's noise
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert "2 sigma" in items[0].label and "transparent" in items[0].label
    assert items[0].color.alpha() == 0
