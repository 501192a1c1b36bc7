"""One rule for values no DEM can hold, in every DEM algorithm.

A single undeclared -3.4028235e38 (another GIS's nodata, written without the nodata tag) or a
3.4e38 spike must become nodata with a warning that counts it, in demsuperresolution,
evaluatedem and topographicphase, through processing.run in the real QGIS; a DEM in feet of a
high mountain range (up to 29000 ft) passes untouched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from dem_rasters import read, utm_dem
from geohazard.engine.io.dem_values import MAX_ELEVATION, MIN_ELEVATION, ElevationGuard, unseen
from geohazard.engine.io.raster_io import inspect_raster, write_raster
from geohazard.engine.models.tiling import tile_starts
from run_checks import RecordingFeedback, run

WILD = [(10, 10, -3.4028235e38), (20, 30, 3.4e38)]


@pytest.fixture
def dems(tmp_path: Path) -> dict[str, str]:
    clean = utm_dem(tmp_path / "clean.tif", shape=(40, 48))
    z, _, _ = read(clean)
    grid = inspect_raster(clean).grid
    wild = z.copy()
    for r, c, v in WILD:
        wild[r, c] = v
    feet = 20_000.0 + (z - z.min()) / (z.max() - z.min()) * 9_000.0  # 20000-29000 ft
    return {
        "clean": clean,
        "wild": write_raster(str(tmp_path / "wild.tif"), wild[None], grid, ["elevation"]),
        "feet": write_raster(str(tmp_path / "feet.tif"), feet[None], grid, ["elevation (ft)"]),
    }


def _warning(feedback: RecordingFeedback) -> str:
    hits = [m for m in feedback.messages if "values no DEM can hold" in m]
    assert len(hits) == 1, feedback.text()
    return hits[0]


def test_super_resolution_turns_wild_values_into_nodata_with_a_count(plugin, dems, tmp_path):
    out = str(tmp_path / "sr.tif")
    feedback = RecordingFeedback()
    run(
        "geohazard:demsuperresolution", {"INPUT": dems["wild"], "SCALE": 2, "OUTPUT": out}, feedback
    )
    assert "'wild.tif': 2 pixels held values no DEM can hold" in _warning(feedback)
    sr, _, _ = read(out)
    clean, _, _ = read(dems["clean"])
    finite = sr[np.isfinite(sr)]
    assert finite.size > 0.9 * sr.size
    assert MIN_ELEVATION < finite.min() and finite.max() < MAX_ELEVATION
    assert abs(float(np.median(finite)) - float(np.median(clean))) < 50  # not garbage
    for r, c, _v in WILD:
        assert np.isnan(sr[2 * r : 2 * r + 2, 2 * c : 2 * c + 2]).all()


def test_evaluate_dem_ignores_wild_values_with_a_count(plugin, dems, tmp_path):
    feedback = RecordingFeedback()
    res = run(
        "geohazard:evaluatedem",
        {"INPUT": dems["wild"], "REFERENCE": dems["clean"], "OUTPUT": str(tmp_path / "d.tif")},
        feedback,
    )
    assert "'wild.tif': 2 pixels" in _warning(feedback)
    assert res["RMSE"] == pytest.approx(0.0, abs=1e-6)  # the wild pixels were left out
    diff, _, _ = read(str(tmp_path / "d.tif"))
    assert int(np.isnan(diff).sum()) == 2


def test_topographic_phase_turns_wild_values_into_nodata_with_a_count(plugin, dems, tmp_path):
    out = str(tmp_path / "phase.tif")
    feedback = RecordingFeedback()
    run(
        "geohazard:topographicphase",
        {"INPUT": dems["wild"], "COMPARE_DEM": dems["clean"], "OUTPUT": out},
        feedback,
    )
    assert "'wild.tif': 2 pixels" in _warning(feedback)
    with rasterio.open(out) as src:
        phase, residual = src.read(1), src.read(3)
    for r, c, _v in WILD:
        assert np.isnan(phase[r, c]) and np.isnan(residual[r, c])
    assert np.isfinite(phase).sum() == phase.size - 2
    assert np.nanmax(np.abs(residual)) == pytest.approx(0.0, abs=1e-5)


def test_dem_in_feet_of_a_high_range_passes_untouched(plugin, dems, tmp_path):
    feet, _, _ = read(dems["feet"])
    assert feet.max() > 28_900
    phase_out = str(tmp_path / "phase.tif")
    feedback = RecordingFeedback()
    run("geohazard:topographicphase", {"INPUT": dems["feet"], "OUTPUT": phase_out}, feedback)
    with rasterio.open(phase_out) as src:
        phase = src.read(1).astype(np.float64)
        k = float(src.tags()["RADIANS_PER_METRE"])
    assert np.isfinite(phase).all()
    np.testing.assert_allclose(phase, k * feet, rtol=1e-5)
    run(
        "geohazard:demsuperresolution",
        {"INPUT": dems["feet"], "SCALE": 2, "OUTPUT": str(tmp_path / "sr.tif")},
        feedback,
    )
    sr, _, _ = read(str(tmp_path / "sr.tif"))
    assert np.isfinite(sr).all() and sr.min() > 19_000 and sr.max() < 30_000
    res = run(
        "geohazard:evaluatedem",
        {"INPUT": dems["feet"], "REFERENCE": dems["feet"], "OUTPUT": str(tmp_path / "d.tif")},
        feedback,
    )
    assert res["RMSE"] == 0.0
    assert not any("values no DEM can hold" in m for m in feedback.messages)


def test_overlapping_tiles_count_each_pixel_once() -> None:
    """The counting regions of overlapping tiles partition the raster (engine rule)."""
    z = np.zeros((70, 90), np.float32)
    z[::7, ::5] = -3.4e38
    guard = ElevationGuard("z.tif")
    rows, cols = tile_starts(70, 32, 8), tile_starts(90, 32, 8)
    for i, r0 in enumerate(rows):
        for j, c0 in enumerate(cols):
            tile = z[r0 : r0 + 32, c0 : c0 + 32].copy()
            guard.clean(tile, (unseen(rows, i, 32), unseen(cols, j, 32)))
            assert np.isnan(tile).sum() == (z[r0 : r0 + 32, c0 : c0 + 32] < -1e30).sum()
    assert guard.count == int((z < -1e30).sum())
