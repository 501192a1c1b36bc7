"""The engine stays pure (no qgis/PyQt), and output georeferencing follows the reference grid."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.io.raster_io import Grid, RasterWriter, write_raster
from geohazard.engine.offsets.outliers import apply_filter
from geohazard.engine.offsets.tracking import OffsetTrackingConfig, track_offsets
from geohazard.engine.simulate import displacement
from rasterio.crs import CRS
from sar_pairs import utm_grid, write_pair

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / ".venv" / "qgis-plugins"


def test_engine_never_imports_qgis_or_qt() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(qgis|PyQt5|PyQt6|processing)\b", re.M)
    offenders = [str(p) for p in (ROOT / "engine").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
    code = (
        f"import sys, pkgutil, importlib; sys.path.insert(0, {str(PLUGINS)!r})\n"
        "import geohazard.engine as e\n"
        "for m in pkgutil.walk_packages(e.__path__, 'geohazard.engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('qgis', 'PyQt5', 'PyQt6')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_output_georeferencing_follows_reference_grid(tmp_path) -> None:
    shape = (320, 352)
    grid = Grid(
        CRS.from_epsg(32633), Affine(10.0, 0, 600000.0, 0, -10.0, 5000000.0), shape[1], shape[0]
    )
    dy, dx = displacement.uniform_field(shape, 1.0, 2.0)
    a, b = write_pair(tmp_path, dy, dx, grid=grid)
    out = str(tmp_path / "o.tif")
    res = track_offsets(
        a, b, out, OffsetTrackingConfig(window_sizes=(32, 64), step=16, search=8, device="cpu")
    )
    with rasterio.open(out) as src:
        assert src.crs == grid.crs
        # first centre at 32/2 + 8 = 24 px; output pixels are 16 px wide, centred on centres
        assert src.transform.almost_equals(
            Affine(160.0, 0, 600000.0 + 10 * (24 - 8), 0, -160.0, 5000000.0 - 10 * (24 - 8))
        )
        assert (src.width, src.height) == ((352 - 48) // 16 + 1, (320 - 48) // 16 + 1)
        assert src.count == 6 and src.dtypes[0] == "float32"
        assert np.isnan(src.nodata)
        east, north, mag = src.read(1), src.read(2), src.read(3)
    # 2 px right = 20 m east; 1 px down = 10 m south
    assert np.nanmedian(east) == pytest.approx(20.0, abs=0.3)
    assert np.nanmedian(north) == pytest.approx(-10.0, abs=0.3)
    assert np.allclose(mag, np.hypot(east, north), equal_nan=True)
    assert res.grid.transform == src.transform


def test_geographic_reference_is_converted_to_metres(tmp_path) -> None:
    shape = (256, 256)
    res_deg = 0.0001  # about 11 m north-south, 8.9 m east-west at 37 N
    grid = Grid(
        CRS.from_epsg(4326), Affine(res_deg, 0, 15.0, 0, -res_deg, 37.0), shape[1], shape[0]
    )
    dy, dx = displacement.uniform_field(shape, -1.0, 1.0)  # 1 px north, 1 px east
    a, b = write_pair(tmp_path, dy, dx, grid=grid)
    out = str(tmp_path / "o.tif")
    track_offsets(a, b, out, OffsetTrackingConfig(window_sizes=(64,), search=6, device="cpu"))
    with rasterio.open(out) as src:
        east, north = src.read(1), src.read(2)
    lat = np.deg2rad(36.987)
    assert np.nanmedian(east) == pytest.approx(res_deg * 111412.84 * np.cos(lat), rel=0.03)
    assert np.nanmedian(north) == pytest.approx(res_deg * 110990.0, rel=0.03)


def test_outlier_filters() -> None:
    rng = np.random.default_rng(0)
    dy = (0.5 + 0.02 * rng.standard_normal((20, 20))).astype(np.float32)
    dx = (-1.0 + 0.02 * rng.standard_normal((20, 20))).astype(np.float32)
    dy[7, 9] = 6.0  # a false match
    q = np.ones_like(dy)
    removed = apply_filter(dy, dx, q, "2-sigma")
    assert removed == 1 and np.isnan(dy[7, 9]) and np.isnan(q[7, 9])
    before = dy.copy()
    apply_filter(dy, dx, q, "median")
    assert np.nanstd(dy) < np.nanstd(before)


def test_writer_leaves_nothing_on_error(tmp_path) -> None:
    grid = utm_grid((10, 10))
    out = tmp_path / "x.tif"
    with pytest.raises(RuntimeError):
        with RasterWriter(str(out), grid, ["a"]) as w:
            w.write(np.zeros((10, 10), np.float32))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_raster(str(out), np.ones((1, 10, 10), np.float32), grid, ["a"])
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]


def test_bad_window_sizes_are_clear() -> None:
    from geohazard.engine.offsets.tracking import parse_window_sizes

    assert parse_window_sizes("128, 32,64") == (32, 64, 128)
    with pytest.raises(GeohazardError, match="even"):
        parse_window_sizes("33")
    with pytest.raises(GeohazardError, match="whole number"):
        parse_window_sizes("32,abc")


def test_strips_give_the_same_offsets_as_one_pass(tmp_path) -> None:
    """Reading in strips of rows (bounded memory) changes the result only by float rounding
    (each strip's energies are summed around its own mean)."""
    import torch
    from geohazard.engine.core.progress import Reporter
    from geohazard.engine.io.raster_io import inspect_raster, open_band
    from geohazard.engine.offsets.tracking import correlate

    shape = (400, 300)
    dy, dx = displacement.smooth_random_field(shape, 1.5, 150.0, seed=1)
    a, b = write_pair(tmp_path, dy, dx)
    ia, ib = inspect_raster(a), inspect_raster(b)
    results = []
    for strip_pixels in (10_000_000, 300 * 120):  # one strip; strips of a few centre rows
        with open_band(ia, 1) as ra, open_band(ib, 1, ia.grid) as rb:
            results.append(
                correlate(
                    ra,
                    rb,
                    ia.grid,
                    (32, 64),
                    16,
                    6,
                    torch.device("cpu"),
                    64,
                    Reporter(),
                    strip_pixels=strip_pixels,
                )
            )
    one, many = results
    for size in (32, 64):
        assert np.isfinite(one.dy[size]).sum() > 50
        np.testing.assert_array_equal(np.isfinite(one.dy[size]), np.isfinite(many.dy[size]))
        np.testing.assert_allclose(one.dy[size], many.dy[size], atol=1e-5)
        np.testing.assert_allclose(one.dx[size], many.dx[size], atol=1e-5)
        np.testing.assert_allclose(one.quality[size], many.quality[size], atol=1e-5)
