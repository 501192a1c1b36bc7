"""Inputs that cannot give a result are refused before the compute starts:
all-nodata rasters (offsettracking, demsuperresolution) and two identical images given to
offsettracking, through processing.run in the real QGIS."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from dem_rasters import utm_dem
from geohazard.engine.io.raster_io import inspect_raster, write_raster
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException
from run_checks import RecordingFeedback, run, snapshot
from sar_pairs import utm_grid, write_pair

TRACK = "geohazard:offsettracking"
SR = "geohazard:demsuperresolution"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    return write_pair(folder, dy, dx)


def _refused(alg: str, params: dict, match: str, out_dir: Path) -> RecordingFeedback:
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException, match=match):
        run(alg, params, feedback)
    assert feedback.max_progress == 0, "the compute ran before the input was refused"
    assert list(out_dir.iterdir()) == []
    return feedback


def test_all_nodata_secondary_is_refused_before_tracking(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    empty = write_raster(
        str(tmp_path / "empty.tif"), np.full((1, 256, 256), np.nan), utm_grid((256, 256)), ["a"]
    )
    out = tmp_path / "out"
    out.mkdir()
    _refused(
        TRACK,
        {"REFERENCE": ref, "SECONDARY": empty, "OUTPUT": str(out / "o.tif")},
        "The secondary raster 'empty.tif' holds no valid pixel in band 1",
        out,
    )


@pytest.mark.parametrize("fill", [np.nan, -3.4028235e38])
def test_all_nodata_dem_is_refused_before_super_resolution(plugin, tmp_path, fill) -> None:
    grid = inspect_raster(utm_dem(tmp_path / "g.tif", shape=(200, 200))).grid
    empty = write_raster(str(tmp_path / "empty.tif"), np.full((1, 200, 200), fill), grid, ["z"])
    out = tmp_path / "out"
    out.mkdir()
    _refused(
        SR,
        {"INPUT": empty, "SCALE": 2, "TILE_SIZE": 32, "OVERLAP": 8, "OUTPUT": str(out / "o.tif")},
        "holds no valid pixel in band 1: no valid elevation, only nodata or impossible values",
        out,
    )


def test_valid_pixels_the_sample_misses_are_found(plugin, tmp_path) -> None:
    """A DEM that is nodata except a 2 x 2 patch between the sampled blocks still runs."""
    grid = inspect_raster(utm_dem(tmp_path / "g.tif", shape=(600, 600))).grid
    z = np.full((1, 600, 600), np.nan, np.float32)
    z[0, 300:302, 300:302] = 1000.0
    patchy = write_raster(str(tmp_path / "patchy.tif"), z, grid, ["z"])
    out = str(tmp_path / "phase.tif")
    feedback = RecordingFeedback()
    run("geohazard:topographicphase", {"INPUT": patchy, "OUTPUT": out}, feedback)
    assert "reading it in full to be sure" in feedback.text()
    with rasterio.open(out) as src:
        assert int(np.isfinite(src.read(1)).sum()) == 4


def test_the_same_file_twice_is_refused_at_once(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    link = tmp_path / "link.tif"
    link.symlink_to(ref)
    out = tmp_path / "out"
    out.mkdir()
    for secondary in (ref, str(link)):
        _refused(
            TRACK,
            {"REFERENCE": ref, "SECONDARY": secondary, "OUTPUT": str(out / "o.tif")},
            "The reference and the secondary are the same file \\('reference.tif'\\); offset "
            "tracking compares two different images",
            out,
        )


def test_identical_pixels_are_refused_at_once(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    copy = str(tmp_path / "copy.tif")
    shutil.copy(ref, copy)
    with rasterio.open(ref) as src:  # same pixels written again: other bytes, same image
        data, profile = src.read(), src.profile
    rewritten = str(tmp_path / "rewritten.tif")
    with rasterio.open(rewritten, "w", **{**profile, "compress": "lzw"}) as dst:
        dst.write(data)
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(Path(ref).parent)
    for secondary in (copy, rewritten):
        _refused(
            TRACK,
            {"REFERENCE": ref, "SECONDARY": secondary, "OUTPUT": str(out / "o.tif")},
            "hold identical pixels in band 1: they are copies of one image, so every offset "
            "would be zero",
            out,
        )
    assert snapshot(Path(ref).parent) == before


def test_one_different_pixel_is_enough_to_run(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    with rasterio.open(ref) as src:
        data, profile = src.read(), src.profile
    data[0, 200, 13] += 1.0  # one pixel differs
    other = str(tmp_path / "other.tif")
    with rasterio.open(other, "w", **profile) as dst:
        dst.write(data)
    out = str(tmp_path / "o.tif")
    run(TRACK, {"REFERENCE": ref, "SECONDARY": other, "OUTPUT": out, "SEARCH": 4})
    assert Path(out).is_file()
