"""geohazard:offsettracking's options in a real QGIS: velocities from dates, stable-ground
correction, prior offsets, pre-filters; through processing.run and scripts/qgis_process, with
bad input refused clearly and nothing partial left."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.simulate import displacement, sar_amplitude
from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer
from rasterio.crs import CRS
from sar_pairs import scene, utm_grid, write_pair
from test_offset_tracking_qgis import RecordingFeedback, _expect_failure, _run

ROOT = Path(__file__).resolve().parents[1]
BASE = {"WINDOW_SIZES": "32,64", "STEP": 16, "SEARCH": 6, "DEVICE": 0}


@pytest.fixture(autouse=True)
def out_folders(tmp_path):
    for name in ("out", "out2"):
        (tmp_path / name).mkdir()


@pytest.fixture
def pair(tmp_path):
    """A uniform shift of 0.5 px down, 1.5 px left: -15 m east, -5 m north at 10 m pixels."""
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    inputs = tmp_path / "in"
    inputs.mkdir()
    return write_pair(inputs, dy, dx)


def _polygons(wkts: list[str], crs: str = "EPSG:32633") -> QgsVectorLayer:
    layer = QgsVectorLayer(f"Polygon?crs={crs}", "stable", "memory")
    feats = []
    for wkt in wkts:
        f = QgsFeature()
        f.setGeometry(QgsGeometry.fromWkt(wkt))
        feats.append(f)
    layer.dataProvider().addFeatures(feats)
    return layer


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def test_velocities_equal_offsets_times_365_25_over_days(plugin, pair, tmp_path):
    ref, sec = pair
    out, vel = tmp_path / "out" / "off.tif", tmp_path / "out" / "vel.tif"
    fb = RecordingFeedback()
    res = _run(
        {
            **BASE,
            "REFERENCE": ref,
            "SECONDARY": sec,
            "REFERENCE_DATE": "2024-01-01",
            "SECONDARY_DATE": "2024-01-13",
            "OUTPUT": str(out),
            "VELOCITY_OUTPUT": str(vel),
        },
        fb,
    )
    assert res["VELOCITY_OUTPUT"] == str(vel)
    with rasterio.open(out) as a, rasterio.open(vel) as b:
        off, v = a.read(), b.read()
        assert b.descriptions[0] == "east velocity (m/yr)"
        assert b.descriptions[4] == "east 1-sigma uncertainty (m/yr)"
    for k in (0, 1, 2, 4, 5):
        np.testing.assert_allclose(v[k], off[k] * 365.25 / 12, rtol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(v[3], off[3])
    assert np.nanmedian(v[0]) == pytest.approx(-15.0 * 365.25 / 12, rel=0.03)
    assert any("12 days" in m for m in fb.messages)


@pytest.mark.parametrize(
    "dates, match",
    [
        (("2024-02-01", "2024-01-01"), "wrong way round"),
        (("2024-01-01", "2024-01-01"), "equal"),
        ((None, "2024-01-01"), "need both"),
    ],
)
def test_bad_dates_refused(plugin, pair, tmp_path, dates, match):
    ref, sec = pair
    out_dir = tmp_path / "out"
    params = {
        **BASE,
        "REFERENCE": ref,
        "SECONDARY": sec,
        "OUTPUT": str(out_dir / "off.tif"),
        "VELOCITY_OUTPUT": str(out_dir / "vel.tif"),
    }
    if dates[0]:
        params["REFERENCE_DATE"] = dates[0]
    params["SECONDARY_DATE"] = dates[1]
    _expect_failure(params, match, (ref, sec), out_dir)


def test_stable_ground_shift_recovered(plugin, pair, tmp_path):
    """The whole pair is shifted (a co-registration bias): the stable area finds and removes it."""
    ref, sec = pair
    out = tmp_path / "out" / "off.tif"
    # left half of the raster (x 500000-501280, y 3997440-4000000)
    stable = _polygons([_box(500000, 3997440, 501280, 4000000)])
    fb = RecordingFeedback()
    res = _run(
        {**BASE, "REFERENCE": ref, "SECONDARY": sec, "STABLE_AREAS": stable, "OUTPUT": str(out)},
        fb,
    )
    assert res["STABLE_SHIFT_EAST"] == pytest.approx(-15.0, abs=0.3)
    assert res["STABLE_SHIFT_NORTH"] == pytest.approx(-5.0, abs=0.3)
    assert 0 <= res["STABLE_RMSE"] < 0.5
    with rasterio.open(out) as src:
        east, north, mag = src.read(1), src.read(2), src.read(3)
        assert src.tags()["STABLE_RMSE_M"]
    assert abs(np.nanmedian(east)) < 0.3 and abs(np.nanmedian(north)) < 0.3
    np.testing.assert_allclose(mag, np.hypot(east, north), rtol=1e-5, equal_nan=True)
    assert any("Stable-ground correction" in m for m in fb.messages)


def test_stable_polygons_outside_refused(plugin, pair, tmp_path):
    ref, sec = pair
    out_dir = tmp_path / "out"
    far = _polygons([_box(700000, 3000000, 701000, 3001000)])
    _expect_failure(
        {
            **BASE,
            "REFERENCE": ref,
            "SECONDARY": sec,
            "STABLE_AREAS": far,
            "OUTPUT": str(out_dir / "off.tif"),
        },
        "No stable-ground polygon overlaps",
        (ref, sec),
        out_dir,
    )


def test_too_few_stable_points_warns(plugin, pair, tmp_path):
    ref, sec = pair
    out = tmp_path / "out" / "off.tif"
    tiny = _polygons([_box(501000, 3998500, 501200, 3998700)])
    fb = RecordingFeedback()
    res = _run(
        {**BASE, "REFERENCE": ref, "SECONDARY": sec, "STABLE_AREAS": tiny, "OUTPUT": str(out)},
        fb,
    )
    assert "STABLE_RMSE" not in res or res["STABLE_RMSE"] is None
    assert any("no stable-ground correction was applied" in m for m in fb.messages)
    with rasterio.open(out) as src:
        assert np.nanmedian(src.read(1)) == pytest.approx(-15.0, abs=0.5)


def _large_motion_pair(folder: Path) -> tuple[str, str]:
    dy, dx = displacement.uniform_field((320, 320), 3.0, 40.0)
    return write_pair(folder, dy, dx)


def _write_prior(path: Path, east: float, north: float, crs: CRS | None = None) -> str:
    grid = Grid(crs or CRS.from_epsg(32633), Affine(80.0, 0, 500000.0, 0, -80.0, 4000000.0), 40, 40)
    write_raster(
        str(path),
        np.stack([np.full((40, 40), east), np.full((40, 40), north)]).astype(np.float32),
        grid,
        ["east (m)", "north (m)"],
    )
    return str(path)


def test_prior_finds_40_px_motion_with_search_8(plugin, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    ref, sec = _large_motion_pair(inputs)
    prior = _write_prior(inputs / "prior.tif", 380.0, -20.0)  # 38 px right, 2 px down
    out = tmp_path / "out" / "off.tif"
    fb = RecordingFeedback()
    _run(
        {
            **BASE,
            "SEARCH": 8,
            "REFERENCE": ref,
            "SECONDARY": sec,
            "PRIOR_OFFSETS": prior,
            "OUTPUT": str(out),
        },
        fb,
    )
    with rasterio.open(out) as src:
        east, north = src.read(1), src.read(2)
    ok = np.isfinite(east)
    assert ok.mean() > 0.5
    assert np.sqrt(np.mean((east[ok] - 400.0) ** 2)) < 2.0  # 0.2 px
    assert np.sqrt(np.mean((north[ok] + 30.0) ** 2)) < 2.0
    # without the prior the same search cannot reach it
    out2 = tmp_path / "out2" / "off.tif"
    try:
        _run({**BASE, "SEARCH": 8, "REFERENCE": ref, "SECONDARY": sec, "OUTPUT": str(out2)})
    except Exception:  # noqa: BLE001 (no match at all is the expected failure)
        return
    with rasterio.open(out2) as src:
        e2 = src.read(1)
    assert not (np.abs(e2[np.isfinite(e2)] - 400.0) < 2.0).mean() > 0.5


def test_prior_in_another_crs_refused(plugin, pair, tmp_path):
    ref, sec = pair
    prior = _write_prior(tmp_path / "prior.tif", 0.0, 0.0, CRS.from_epsg(32632))
    out_dir = tmp_path / "out"
    _expect_failure(
        {
            **BASE,
            "REFERENCE": ref,
            "SECONDARY": sec,
            "PRIOR_OFFSETS": prior,
            "OUTPUT": str(out_dir / "off.tif"),
        },
        "another CRS",
        (ref, sec),
        out_dir,
    )


def test_prior_outside_refused(plugin, pair, tmp_path):
    ref, sec = pair
    grid = Grid(CRS.from_epsg(32633), Affine(80.0, 0, 900000.0, 0, -80.0, 3000000.0), 10, 10)
    prior = str(tmp_path / "prior.tif")
    write_raster(prior, np.zeros((2, 10, 10), np.float32), grid, ["e", "n"])
    out_dir = tmp_path / "out"
    _expect_failure(
        {
            **BASE,
            "REFERENCE": ref,
            "SECONDARY": sec,
            "PRIOR_OFFSETS": prior,
            "OUTPUT": str(out_dir / "off.tif"),
        },
        "does not overlap",
        (ref, sec),
        out_dir,
    )


@pytest.fixture
def brightness_change_pair(tmp_path):
    """1 px east, 0.5 px south, and the secondary brighter on one side with a lower contrast."""
    shape = (256, 256)
    dy, dx = displacement.uniform_field(shape, 0.5, 1.0)
    ref, sec = sar_amplitude.speckled_pair(scene(shape, 4), dy, dx, looks=4, seed=4)
    ramp = np.linspace(0.5, 2.5, shape[1], dtype=np.float32)[None, :]
    sec = sec * ramp + 0.3 * ramp * ramp
    grid = utm_grid(shape)
    a, b = str(tmp_path / "ref.tif"), str(tmp_path / "sec.tif")
    write_raster(a, ref[None], grid, ["amplitude"])
    write_raster(b, sec[None].astype(np.float32), grid, ["amplitude"])
    return a, b


@pytest.mark.parametrize("prefilter", [0, 1, 2])
def test_prefilters_on_brightness_change(plugin, brightness_change_pair, tmp_path, prefilter):
    ref, sec = brightness_change_pair
    out = tmp_path / "out" / "off.tif"
    _run({**BASE, "PREFILTER": prefilter, "REFERENCE": ref, "SECONDARY": sec, "OUTPUT": str(out)})
    with rasterio.open(out) as src:
        east, north = src.read(1), src.read(2)
        assert src.tags()["PREFILTER"] == ["none", "wallis", "log"][prefilter]
    ok = np.isfinite(east)
    rmse = float(np.sqrt(np.mean((east[ok] - 10.0) ** 2 + (north[ok] + 5.0) ** 2)))
    print(
        f"prefilter {['none', 'wallis', 'log'][prefilter]}: RMSE {rmse:.3f} m, "
        f"{100 * ok.mean():.0f}% valid"
    )
    assert ok.mean() > 0.8 and rmse < 1.0


def test_qgis_process_with_new_parameters(pair, tmp_path):
    ref, sec = pair
    out, vel = tmp_path / "qp.tif", tmp_path / "qpv.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            "geohazard:offsettracking",
            "--",
            f"REFERENCE={ref}",
            f"SECONDARY={sec}",
            "WINDOW_SIZES=32,64",
            "SEARCH=6",
            "PREFILTER=1",
            "REFERENCE_DATE=2024-01-01",
            "SECONDARY_DATE=2024-03-01",
            f"OUTPUT={out}",
            f"VELOCITY_OUTPUT={vel}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as a, rasterio.open(vel) as b:
        assert a.count == 6 and b.count == 6
        np.testing.assert_allclose(b.read(1), a.read(1) * 365.25 / 60, rtol=1e-5, equal_nan=True)


def test_deformation_passes_parameter(plugin, tmp_path):
    """DEFORMATION_PASSES reaches the engine: 0 keeps the first pass's peak fits, the default
    (the engine's own) refines them; both find the shift."""
    from geohazard.engine.offsets.deform import PASSES
    from geohazard.processing_provider.offset_tracking import DEFAULT_DEFORM_PASSES

    assert DEFAULT_DEFORM_PASSES == PASSES
    dy, dx = displacement.uniform_field((192, 192), 0.3, -1.3)
    inputs = tmp_path / "in"
    inputs.mkdir()
    ref, sec = write_pair(inputs, dy, dx)
    east = {}
    for passes in (0, None):
        out = tmp_path / "out" / f"p{passes}.tif"
        params = {**BASE, "REFERENCE": ref, "SECONDARY": sec, "OUTPUT": str(out)}
        if passes is not None:
            params["DEFORMATION_PASSES"] = passes
        _run(params)
        with rasterio.open(out) as f:
            east[passes] = f.read(1)
        assert np.nanmedian(east[passes]) == pytest.approx(-13.0, abs=1.0)
    assert not np.allclose(east[0], east[None], equal_nan=True)
