"""geohazard:deepoffsettracking takes what the classical tracker takes: pre-filter, acquisition
dates with a velocity output in m/yr, stable ground (shift removed, statistics as outputs) and
prior offsets; and it refuses the same image twice. Through processing.run and qgis_process, with
a tiny model whose output is its NCC prior (so the expected offsets are known)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from deep_offset_models import save_tiny_model
from geohazard.engine.raster_io import Grid, write_raster
from geohazard.engine.simulate import displacement
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsVectorLayer,
)
from rasterio.crs import CRS
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:deepoffsettracking"
# 0.5 px down and 1.5 px left at 10 m pixels: -15 m east, -5 m north everywhere
EAST, NORTH = -15.0, -5.0
LEFT_HALF = "POLYGON((500000 3998720,500640 3998720,500640 4000000,500000 4000000,500000 3998720))"


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    dy, dx = displacement.uniform_field((128, 128), 0.5, -1.5)
    return write_pair(folder, dy, dx)


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return save_tiny_model(tmp_path / "models", "tiny_prior", "zero")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _stable_layer() -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon?crs=EPSG:32633", "stable", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt(LEFT_HALF))
    layer.dataProvider().addFeatures([feature])
    return layer


def _run(params: dict) -> dict:
    import processing

    return processing.run(ALG, params, feedback=QgsProcessingFeedback())


def _interior(path: str, band: int) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(band)[24:-24, 24:-24]


def test_stable_ground_removes_the_shift_and_reports_it(plugin, pair, tiny, out_dir) -> None:
    out = str(out_dir / "deep.tif")
    result = _run(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": tiny,
            "DEVICE": 1,
            "STABLE_AREAS": _stable_layer(),
            "OUTPUT": out,
        }
    )
    assert result["STABLE_SHIFT_EAST"] == pytest.approx(EAST, abs=0.5)
    assert result["STABLE_SHIFT_NORTH"] == pytest.approx(NORTH, abs=0.5)
    assert 0 <= result["STABLE_RMSE"] < 1.0
    east, north, mag = (_interior(out, b) for b in (1, 2, 3))
    assert abs(np.nanmedian(east)) < 0.3 and abs(np.nanmedian(north)) < 0.3
    np.testing.assert_allclose(mag, np.hypot(east, north), rtol=1e-5, atol=1e-6)
    with rasterio.open(out) as ds:
        assert float(ds.tags()["STABLE_SHIFT_EAST_M"]) == pytest.approx(result["STABLE_SHIFT_EAST"])
    assert sorted(p.name for p in out_dir.iterdir()) == ["deep.tif"]  # no work files left


def test_same_image_twice_is_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    copy = tmp_path / "copy.tif"
    shutil.copy(pair[0], copy)
    before = _digest(Path(pair[0]).parent)
    for secondary, match in (
        (pair[0], "are the same file"),
        (str(copy), "hold identical pixels in band 1"),
    ):
        with pytest.raises(QgsProcessingException, match=match):
            _run(
                {
                    "REFERENCE": pair[0],
                    "SECONDARY": secondary,
                    "MODEL": tiny,
                    "DEVICE": 1,
                    "OUTPUT": str(out_dir / "deep.tif"),
                }
            )
    assert _digest(Path(pair[0]).parent) == before
    assert list(out_dir.iterdir()) == []


def test_velocity_needs_both_dates(plugin, pair, tiny, out_dir) -> None:
    with pytest.raises(QgsProcessingException, match="Velocities need both acquisition dates"):
        _run(
            {
                "REFERENCE": pair[0],
                "SECONDARY": pair[1],
                "MODEL": tiny,
                "DEVICE": 1,
                "REFERENCE_DATE": "2024-01-01",
                "OUTPUT": str(out_dir / "deep.tif"),
                "VELOCITY_OUTPUT": str(out_dir / "vel.tif"),
            }
        )
    assert list(out_dir.iterdir()) == []


def _prior_raster(path: Path, east: float, north: float) -> str:
    grid = Grid(CRS.from_epsg(32633), Affine(80.0, 0, 500000.0, 0, -80.0, 4000000.0), 16, 16)
    stack = np.stack([np.full((16, 16), east), np.full((16, 16), north)]).astype(np.float32)
    write_raster(str(path), stack, grid, ["east (m)", "north (m)"])
    return str(path)


def test_qgis_process_with_every_option(pair, tiny, tmp_path, out_dir) -> None:
    """Pre-filter, dates and velocities, stable ground from a file, prior offsets: the velocity
    is the offset x 365.25 / days, the stable shift comes back in the JSON results."""
    stable = tmp_path / "stable.geojson"
    geometry = {
        "type": "Polygon",
        "coordinates": [
            [
                [500000, 3998720],
                [500640, 3998720],
                [500640, 4000000],
                [500000, 4000000],
                [500000, 3998720],
            ]
        ],
    }
    stable.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32633"}},
                "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
            }
        )
    )
    prior = _prior_raster(tmp_path / "prior.tif", EAST, NORTH)
    out, vel = out_dir / "deep.tif", out_dir / "vel.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "--json",
            "run",
            ALG,
            "--",
            f"REFERENCE={pair[0]}",
            f"SECONDARY={pair[1]}",
            f"MODEL={tiny}",
            "DEVICE=1",
            "PREFILTER=1",
            "REFERENCE_DATE=2024-01-01",
            "SECONDARY_DATE=2024-03-01",
            f"STABLE_AREAS={stable}",
            f"PRIOR_OFFSETS={prior}",
            f"OUTPUT={out}",
            f"VELOCITY_OUTPUT={vel}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout[proc.stdout.index("{") :])["results"]
    assert results["STABLE_SHIFT_EAST"] == pytest.approx(EAST, abs=0.5)
    assert results["STABLE_SHIFT_NORTH"] == pytest.approx(NORTH, abs=0.5)
    with rasterio.open(out) as a, rasterio.open(vel) as b:
        assert a.count == 6 and b.count == 6
        assert "m/yr" in b.descriptions[0]
        for band in (1, 2, 3, 5, 6):
            np.testing.assert_allclose(
                b.read(band), a.read(band) * 365.25 / 60, rtol=1e-5, equal_nan=True
            )
        np.testing.assert_array_equal(b.read(4), a.read(4))  # quality unchanged
    assert sorted(p.name for p in out_dir.iterdir()) == ["deep.tif", "vel.tif"]
