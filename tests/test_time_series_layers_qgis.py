"""The time series output as QGIS loads it: one layer per date on one colour ramp, each with
its fixed temporal range (what the Temporal Controller plays), and the velocity styled."""

from __future__ import annotations

import datetime as dt

import numpy as np
from processing_runs import loaded_layer, run_and_load, to_load
from qgis.core import QgsApplication, QgsProject, QgsSingleBandPseudoColorRenderer
from time_series_stack import write_tif

DATES = [dt.date(2024, 5, 1) + dt.timedelta(days=12 * k) for k in range(4)]


def test_series_loads_as_one_temporal_layer_per_date(plugin, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scipy import ndimage

    rng = np.random.default_rng(0)
    base = ndimage.gaussian_filter(rng.gamma(2.0, 1.0, (96, 96)), 1.0) + 0.1
    paths = []
    for k, date in enumerate(DATES):
        path = str(tmp_path / f"img_{date.strftime('%Y%m%d')}.tif")
        write_tif(path, ndimage.shift(base, (0, 0.5 * k), order=3, mode="nearest"))
        paths.append(path)
    alg = QgsApplication.processingRegistry().createAlgorithmById(
        "geohazard:displacementtimeseries"
    )
    params = {
        "INPUT": paths,
        "WINDOW_SIZES": "16",
        "STEP": 8,
        "SEARCH": 4,
        "OUTPUT": to_load(str(tmp_path / "series.tif")),
        "VELOCITY_OUTPUT": to_load(str(tmp_path / "velocity.tif")),
    }
    results, _, _ = run_and_load(alg, params)
    root = QgsProject.instance().layerTreeRoot()
    group = root.findGroup("series")
    assert group is not None
    layers = [node.layer() for node in group.findLayers()]
    assert [lyr.name() for lyr in layers] == [
        f"{d.isoformat()} cumulative displacement" for d in DATES
    ]
    n = len(DATES)
    ramps = set()
    for k, lyr in enumerate(layers):
        assert lyr.source() == results["OUTPUT"]
        renderer = lyr.renderer()
        assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
        assert renderer.band() == 2 * n + 1 + k  # the date's magnitude band
        ramps.add((renderer.classificationMin(), renderer.classificationMax()))
        props = lyr.temporalProperties()
        assert props.isActive()
        rng_ = props.fixedTemporalRange()
        assert rng_.begin().date().toPyDate() == DATES[k]
        end = DATES[k + 1] if k + 1 < n else DATES[k] + (DATES[k] - DATES[k - 1])
        assert rng_.end().date().toPyDate() == end
        assert not rng_.includeEnd()
    assert len(ramps) == 1  # one colour ramp for every date
    velocity = loaded_layer(results["VELOCITY_OUTPUT"])
    assert velocity.renderer().band() == 3  # speed
    assert root.findLayer(velocity.id()).parent() is not group
    QgsProject.instance().removeAllMapLayers()
    root.removeAllChildren()
