"""geohazard:deepoffsettracking in a real QGIS: parameters, processing.run, qgis_process, style and
bad input (a clear QgsProcessingException, inputs unchanged, nothing left in the output folder);
the classical tracker's options (pre-filter, dates and velocities, stable ground, prior offsets)
and the refusal of the same image twice, with a tiny model whose output is its NCC prior."""

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
from geohazard.engine.families.deep_offsets.task import OUTPUT_BANDS
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.model_store import BUNDLED_DIR
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from rasterio.crs import CRS
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:deepoffsettracking"
SHIFT = (0.5, -1.5)


class CancellingFeedback(QgsProcessingFeedback):
    def __init__(self, at: float) -> None:
        super().__init__()
        self.progressChanged.connect(lambda v: self.cancel() if v >= at else None)


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    shape = (128, 128)
    folder = tmp_path / "in"
    folder.mkdir()
    return write_pair(
        folder, np.full(shape, SHIFT[0], np.float32), np.full(shape, SHIFT[1], np.float32)
    )


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return save_tiny_model(tmp_path / "models", "tiny_zero", "zero")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(ALG, params, feedback=feedback or QgsProcessingFeedback())


def _expect_failure(
    params: dict, match: str, inputs: tuple[str, ...], out_dir: Path, feedback=None
) -> None:  # type: ignore[no-untyped-def]
    before = _digest(*inputs)
    with pytest.raises(QgsProcessingException, match=match):
        _run(params, feedback)
    assert _digest(*inputs) == before, "an input was modified"
    assert [p.name for p in out_dir.iterdir()] == [], "something was left behind"


def test_registered_with_the_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names == [
        "REFERENCE",
        "SECONDARY",
        "BAND",
        "PREFILTER",
        "REFERENCE_DATE",
        "SECONDARY_DATE",
        "STABLE_AREAS",
        "PRIOR_OFFSETS",
        "MODEL",
        "TILE_SIZE",
        "OVERLAP",
        "BATCH",
        "DEVICE",
        "OUTPUT",
        "VELOCITY_OUTPUT",
    ]
    assert alg.parameterDefinition("DEVICE").options() == ["auto", "cpu", "cuda"]
    help_text = alg.shortHelpString()
    assert "CC-ResSiamNet" in help_text and "1-sigma" in help_text and "114577" in help_text


def test_processing_run_writes_the_dense_six_band_layout(plugin, pair, tiny, out_dir) -> None:
    out = str(out_dir / "deep.tif")
    result = _run(
        {"REFERENCE": pair[0], "SECONDARY": pair[1], "MODEL": tiny, "DEVICE": 1, "OUTPUT": out}
    )
    assert result["OUTPUT"] == out
    with rasterio.open(out) as ds, rasterio.open(pair[0]) as ref:
        assert ds.count == 6 and list(ds.descriptions) == list(OUTPUT_BANDS)
        assert ds.transform == ref.transform and ds.shape == ref.shape  # one value per pixel
        east, north = ds.read(1), ds.read(2)
    assert np.nanmedian(east[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=0.5)
    assert np.nanmedian(north[24:-24, 24:-24]) == pytest.approx(-10 * SHIFT[0], abs=0.5)


def test_output_loads_styled_by_magnitude(plugin, pair, tiny, out_dir) -> None:
    import processing
    from qgis.core import QgsProcessingContext

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    out = str(out_dir / "deep.tif")
    processing.runAndLoadResults(
        ALG,
        {"REFERENCE": pair[0], "SECONDARY": pair[1], "MODEL": tiny, "OUTPUT": out},
        context=context,
    )
    layers = [lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.source() == out]
    assert layers and isinstance(layers[0], QgsRasterLayer)
    assert layers[0].renderer().band() == 3
    QgsProject.instance().removeAllMapLayers()


def test_default_model_is_bundled_and_runs(plugin, pair, out_dir) -> None:
    assert (Path(BUNDLED_DIR) / "deep_offsets_small.safetensors").exists()
    out = str(out_dir / "deep.tif")
    _run({"REFERENCE": pair[0], "SECONDARY": pair[1], "OUTPUT": out})
    with rasterio.open(out) as ds:
        east, sigma = ds.read(1), ds.read(5)
    assert np.nanmedian(east[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=1.0)
    assert np.all(sigma[np.isfinite(sigma)] > 0)


def test_a_dem_model_is_refused(plugin, pair, out_dir) -> None:
    dem_model = str(Path(BUNDLED_DIR) / "dem_sr_x4.safetensors")
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": dem_model,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "dem-super-resolution",
        pair,
        out_dir,
    )


def test_weights_that_do_not_match_their_card_are_refused(
    plugin, pair, tiny, tmp_path, out_dir
) -> None:
    weights = tmp_path / "mine.safetensors"
    shutil.copy(tiny, weights)
    card = json.loads(Path(tiny).with_suffix(".json").read_text())
    card["architecture"]["base_ch"] = 8
    weights.with_suffix(".json").write_text(json.dumps(card))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": str(weights),
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "do not match the architecture",
        (*pair, str(weights)),
        out_dir,
    )


def test_corrupt_weights_are_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    weights = tmp_path / "cut.safetensors"
    weights.write_bytes(Path(tiny).read_bytes()[:3000])
    shutil.copy(Path(tiny).with_suffix(".json"), weights.with_suffix(".json"))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": str(weights),
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "not a valid safetensors file",
        (*pair, str(weights)),
        out_dir,
    )


def test_all_nodata_secondary_is_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    empty = tmp_path / "empty.tif"
    with rasterio.open(pair[1]) as src:
        profile = src.profile
    profile.update(nodata=0)
    with rasterio.open(empty, "w", **profile) as dst:
        dst.write(np.zeros((1, profile["height"], profile["width"]), np.float32))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": str(empty),
            "MODEL": tiny,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "all nodata",
        (pair[0], str(empty)),
        out_dir,
    )


def test_cancel_leaves_nothing(plugin, pair, tiny, out_dir) -> None:
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": tiny,
            "TILE_SIZE": 64,
            "OVERLAP": 16,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "Cancel",
        pair,
        out_dir,
        CancellingFeedback(50.0),
    )


def test_qgis_process_runs_end_to_end(pair, tiny, tmp_path) -> None:
    out = tmp_path / "qp.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            ALG,
            "--",
            f"REFERENCE={pair[0]}",
            f"SECONDARY={pair[1]}",
            f"MODEL={tiny}",
            f"OUTPUT={out}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as ds:
        assert ds.count == 6
        assert np.nanmedian(ds.read(1)[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=0.5)


# --- the classical tracker's options, and the same image twice ---------------------------------

# 0.5 px down and 1.5 px left at 10 m pixels: -15 m east, -5 m north everywhere
EAST, NORTH = -15.0, -5.0
LEFT_HALF = "POLYGON((500000 3998720,500640 3998720,500640 4000000,500000 4000000,500000 3998720))"


def _folder_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _stable_layer() -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon?crs=EPSG:32633", "stable", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt(LEFT_HALF))
    layer.dataProvider().addFeatures([feature])
    return layer


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
    # no work files left: the output and the style QGIS loads with it
    assert sorted(p.name for p in out_dir.iterdir()) == ["deep.qml", "deep.tif"]


def test_same_image_twice_is_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    copy = tmp_path / "copy.tif"
    shutil.copy(pair[0], copy)
    before = _folder_digest(Path(pair[0]).parent)
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
    assert _folder_digest(Path(pair[0]).parent) == before
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
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "deep.qml",
        "deep.tif",
        "vel.qml",
        "vel.tif",
    ]
