"""Messages a geologist can act on, through the real QGIS (processing.run, and qgis_process for
the shipped workflow): damaged files are named and called damaged; the workflow's bad threshold
and missing DEM get Geohazard's own sentences; an empty window size, 1 x 1 px DEMs, a 3 x 3 px
DEM given to evaluatedem, a constant image and a 1 x 1 px secondary are refused for what they
are; a DEM holding NaN, infinities and -3.4e38 without a nodata tag passes the one rule of values
no DEM can hold; a vector output given a raster's file name is refused before anything runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from dem_rasters import utm_dem
from displacement_rasters import two_lobes
from geohazard.engine.io.raster_io import Grid, inspect_raster, write_raster
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException
from rasterio.crs import CRS
from run_checks import ROOT, RecordingFeedback, run, snapshot
from sar_pairs import utm_grid, write_pair


def _refused(alg: str, params: dict, expected: str) -> str:
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as err:
        run(alg, params, feedback)
    text = str(err.value)
    assert expected in text, text
    assert "Traceback" not in text and "See previous exception" not in text, text
    assert feedback.max_progress == 0, "it computed before refusing"
    return text


def _truncated(path: str) -> str:
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(int(size * 0.6))
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "pair"
    folder.mkdir()
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    return write_pair(folder, dy, dx)


def test_truncated_sar_given_to_sartooptical_is_named_damaged(plugin, tmp_path) -> None:
    grid = utm_grid((256, 256))
    data = np.random.default_rng(0).gamma(4.0, 0.05, (2, 256, 256)).astype(np.float32)
    sar = _truncated(write_raster(str(tmp_path / "sar.tif"), data, grid, ["VV", "VH"]))
    dem = utm_dem(tmp_path / "dem.tif", shape=(100, 100), pixel=30.0)
    text = _refused(
        "geohazard:sartooptical",
        {"SAR": sar, "DEM": dem, "OUTPUT": str(tmp_path / "o.tif")},
        "'sar.tif' is damaged",
    )
    assert "Read failed" not in text, text


def test_truncated_dem_is_named_damaged(plugin, tmp_path) -> None:
    dem = _truncated(utm_dem(tmp_path / "dem.tif", shape=(300, 300)))
    text = _refused(
        "geohazard:topographicphase",
        {"INPUT": dem, "OUTPUT": str(tmp_path / "o.tif")},
        "'dem.tif' is damaged",
    )
    assert "Read failed" not in text, text


def _qgis_process(*args: str) -> str:
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", "geohazard:landslideevent", "--", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0, proc.stdout
    return proc.stdout + proc.stderr


def test_workflow_bad_threshold_and_missing_dem_get_clear_sentences(pair, tmp_path) -> None:
    ref, sec = pair
    dem = utm_dem(tmp_path / "dem.tif", shape=(100, 100))
    common = [f"REFERENCE={ref}", f"SECONDARY={sec}", f"SAR={ref}"]
    out = _qgis_process(*common, f"DEM={dem}", "THRESHOLD=-1")
    assert "THRESHOLD must be" in out and "Incorrect parameter value" not in out, out
    missing = str(tmp_path / "no_such_dem.tif")
    out = _qgis_process(*common, f"DEM={missing}")
    assert "DEM: '" in out and "was not found" in out, out
    assert "Could not load source layer" not in out, out


def test_empty_window_size_is_refused(plugin, pair, tmp_path) -> None:
    ref, sec = pair
    _refused(
        "geohazard:offsettracking",
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "WINDOW_SIZES": "32,,64",
            "OUTPUT": str(tmp_path / "o.tif"),
        },
        "WINDOW_SIZES '32,,64' has an empty size between its commas",
    )


@pytest.mark.parametrize(
    ("alg", "key"), [("geohazard:topographicphase", "INPUT"), ("geohazard:sardistortion", "DEM")]
)
def test_one_pixel_dem_is_refused(plugin, tmp_path, alg, key) -> None:
    dem = utm_dem(tmp_path / "tiny.tif", shape=(1, 1))
    _refused(
        alg,
        {key: dem, "OUTPUT": str(tmp_path / "o.tif")},
        "'tiny.tif' is 1 x 1 px; a DEM here needs at least 3 x 3 px",
    )


def test_three_pixel_dems_are_refused_by_evaluatedem(plugin, tmp_path) -> None:
    a = utm_dem(tmp_path / "a.tif", shape=(3, 3))
    b = utm_dem(tmp_path / "b.tif", shape=(3, 3), seed=9)
    out = tmp_path / "o.tif"
    _refused(
        "geohazard:evaluatedem",
        {"INPUT": a, "REFERENCE": b, "OUTPUT": str(out)},
        "is 3 x 3 px; a DEM here needs at least 4 x 4 px",
    )
    assert not out.exists()


def test_constant_secondary_is_blamed_on_its_texture(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    flat = write_raster(
        str(tmp_path / "flat.tif"), np.full((1, 256, 256), 5.0), utm_grid((256, 256)), ["a"]
    )
    text = _refused(
        "geohazard:offsettracking",
        {"REFERENCE": ref, "SECONDARY": flat, "OUTPUT": str(tmp_path / "o.tif")},
        "The secondary raster 'flat.tif' holds one constant value (5) in band 1",
    )
    assert "SEARCH" not in text, text


def test_one_pixel_secondary_is_blamed_on_its_size(plugin, pair, tmp_path) -> None:
    ref, _ = pair
    with rasterio.open(ref) as src:
        t = src.transform
    one = write_raster(
        str(tmp_path / "one.tif"),
        np.full((1, 1, 1), 3.0),
        Grid(CRS.from_epsg(32633), Affine(t.a, 0, t.c + 100 * t.a, 0, t.e, t.f), 1, 1),
        ["a"],
    )
    text = _refused(
        "geohazard:offsettracking",
        {"REFERENCE": ref, "SECONDARY": one, "OUTPUT": str(tmp_path / "o.tif")},
        "The secondary raster 'one.tif' has only 1 valid pixel(s) in band 1 over the reference "
        "area, fewer than one 32 x 32 px window holds",
    )
    assert "SEARCH" not in text and "search" not in text, text


@pytest.mark.parametrize(
    ("alg", "key"), [("geohazard:sardistortion", "DEM"), ("geohazard:topographicphase", "INPUT")]
)
def test_wild_dem_values_without_nodata_pass_one_rule(plugin, tmp_path, alg, key) -> None:
    path = utm_dem(tmp_path / "wild.tif", shape=(60, 60))
    with rasterio.open(path, "r+") as dst:
        z = dst.read(1)
        z[10, 10], z[20, 20], z[30, 30], z[40, 40] = np.nan, np.inf, -np.inf, -3.4028235e38
        dst.write(z, 1)
        assert dst.nodata is None or np.isnan(dst.nodata)
    out = str(tmp_path / "o.tif")
    feedback = RecordingFeedback()
    run(alg, {key: path, "OUTPUT": out}, feedback)
    warnings = [str(m) for k, m in feedback.events if k == "warning" and "wild.tif" in str(m)]
    assert any("3 pixels held values no DEM can hold" in w for w in warnings), feedback.text()
    assert inspect_raster(out).grid.width == 60


def test_vector_output_named_as_a_raster_is_refused(plugin, tmp_path) -> None:
    disp = two_lobes(tmp_path / "disp.tif")
    before = snapshot(tmp_path)
    _refused(
        "geohazard:landslideareas",
        {"INPUT": disp, "OUTPUT": str(tmp_path / "areas.tif")},
        "OUTPUT: 'areas.tif' is not a file type this output can be written as",
    )
    assert snapshot(tmp_path) == before
