"""DEM super-resolution, evaluation and topographic phase in a real QGIS: processing.run,
qgis_process, styles, georeferencing and bad input (clear error, inputs untouched, nothing left)."""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from dem_rasters import read, utm_dem
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.model_store import BUNDLED_DIR
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsRasterLayer
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
SR = "geohazard:demsuperresolution"
EVAL = "geohazard:evaluatedem"
PHASE = "geohazard:topographicphase"


class CancellingFeedback(QgsProcessingFeedback):
    """Cancels once progress reaches ``at`` percent."""

    def __init__(self, at: float) -> None:
        super().__init__()
        self.at = at
        self.progressChanged.connect(lambda v: self.cancel() if v >= self.at else None)


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def _run(alg: str, params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(alg, params, feedback=feedback or QgsProcessingFeedback())


def _expect_failure(
    alg: str, params: dict, match: str, inputs: tuple[str, ...], out_dir: Path, feedback=None
) -> None:
    before = _digest(*inputs)
    with pytest.raises(QgsProcessingException, match=match):
        _run(alg, params, feedback)
    assert _digest(*inputs) == before, "an input was modified"
    leftovers = [p.name for p in out_dir.iterdir()]
    assert leftovers == [], f"left behind: {leftovers}"


@pytest.fixture
def dem(tmp_path: Path) -> str:
    folder = tmp_path / "in"
    folder.mkdir()
    return utm_dem(folder / "dem.tif", shape=(40, 48))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_algorithms_registered_with_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    reg = QgsApplication.processingRegistry()
    expected = {
        SR: ["INPUT", "SCALE", "MODEL", "TILE_SIZE", "OVERLAP", "BATCH", "DEVICE", "OUTPUT"],
        EVAL: ["INPUT", "REFERENCE", "OUTPUT", "REPORT", "LOW_RESOLUTION"],
        PHASE: [
            "INPUT",
            "BASELINE",
            "WAVELENGTH",
            "SLANT_RANGE",
            "INCIDENCE",
            "COMPARE_DEM",
            "OUTPUT",
        ],
    }
    for alg_id, names in expected.items():
        alg = reg.algorithmById(alg_id)
        assert alg is not None, alg_id
        assert [p.name() for p in alg.parameterDefinitions()] == names
        assert len(alg.shortHelpString()) > 200
    sr = reg.algorithmById(SR)
    assert "dem_sr_x2" in sr.shortHelpString() and "dem_sr_x4" in sr.shortHelpString()
    assert sr.parameterDefinition("SCALE").defaultValue() == 4
    assert sr.parameterDefinition("DEVICE").options() == ["auto", "cpu", "cuda"]


@pytest.mark.parametrize("scale", [2, 4])
def test_super_resolution_end_to_end_with_defaults(plugin, dem, out_dir, scale) -> None:
    out = out_dir / "sr.tif"
    before = _digest(dem)
    res = _run(SR, {"INPUT": dem, "SCALE": scale, "OUTPUT": str(out)})
    assert res["OUTPUT"] == str(out)
    assert _digest(dem) == before
    with rasterio.open(dem) as a, rasterio.open(out) as b:
        assert b.crs == a.crs and b.dtypes == ("float32",)
        assert (b.width, b.height) == (a.width * scale, a.height * scale)
        assert b.res == pytest.approx((a.res[0] / scale, a.res[1] / scale))
        assert b.bounds == pytest.approx(a.bounds)
        assert b.tags()["GEOHAZARD_MODEL"] == f"dem_sr_x{scale}"
        lr, hr = a.read(1), b.read(1)
    assert np.isfinite(hr).all()
    assert abs(float(hr.mean()) - float(lr.mean())) < 0.01
    assert sorted(p.name for p in out_dir.iterdir()) == ["sr.qml", "sr.tif"]  # with its style


def test_super_resolution_output_loads_as_hillshade(plugin, dem, out_dir) -> None:
    import processing
    from qgis.core import QgsHillshadeRenderer

    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(SR, {"INPUT": dem, "SCALE": 2, "OUTPUT": str(out_dir / "sr.tif")})
    layers = [
        lyr for lyr in QgsProject.instance().mapLayers().values() if isinstance(lyr, QgsRasterLayer)
    ]
    assert len(layers) == 1
    assert isinstance(layers[0].renderer(), QgsHillshadeRenderer)
    assert layers[0].name() == "sr"  # the file name the user gave
    QgsProject.instance().removeAllMapLayers()


def test_scale_three_is_refused(plugin, dem, out_dir) -> None:
    _expect_failure(
        SR,
        {"INPUT": dem, "SCALE": 3, "OUTPUT": str(out_dir / "o.tif")},
        "SCALE must be 2 or 4",
        (dem,),
        out_dir,
    )


def test_multiband_raster_is_refused(plugin, tmp_path, out_dir) -> None:
    grid = Grid(CRS.from_epsg(32633), Affine(30, 0, 0, 0, -30, 0), 32, 32)
    src = write_raster(
        str(tmp_path / "rgb.tif"),
        np.random.default_rng(0).random((3, 32, 32), np.float32),
        grid,
        ["r", "g", "b"],
    )
    _expect_failure(
        SR,
        {"INPUT": src, "OUTPUT": str(out_dir / "o.tif")},
        "3 bands; a DEM must have exactly one band",
        (src,),
        out_dir,
    )


def test_all_nodata_is_refused(plugin, tmp_path, out_dir) -> None:
    grid = Grid(CRS.from_epsg(32633), Affine(30, 0, 0, 0, -30, 0), 32, 32)
    src = write_raster(
        str(tmp_path / "nodata.tif"), np.full((1, 32, 32), np.nan, np.float32), grid, ["e"]
    )
    _expect_failure(
        SR, {"INPUT": src, "OUTPUT": str(out_dir / "o.tif")}, "no valid pixel", (src,), out_dir
    )


def test_raster_smaller_than_a_tile_works(plugin, tmp_path, out_dir) -> None:
    src = utm_dem(tmp_path / "small.tif", shape=(12, 10))
    _run(SR, {"INPUT": src, "SCALE": 4, "TILE_SIZE": 128, "OUTPUT": str(out_dir / "o.tif")})
    assert read(str(out_dir / "o.tif"))[0].shape == (48, 40)


def test_model_scale_mismatch_is_refused(plugin, dem, out_dir) -> None:
    _expect_failure(
        SR,
        {"INPUT": dem, "SCALE": 4, "MODEL": "dem_sr_x2", "OUTPUT": str(out_dir / "o.tif")},
        "trained for x2 super-resolution, but SCALE is 4",
        (dem,),
        out_dir,
    )


def test_unknown_model_is_refused(plugin, dem, out_dir) -> None:
    _expect_failure(
        SR,
        {"INPUT": dem, "MODEL": "srgan_9000", "OUTPUT": str(out_dir / "o.tif")},
        "Unknown model 'srgan_9000'. Models for this task: dem_sr_x2, dem_sr_x4",
        (dem,),
        out_dir,
    )


def test_corrupt_weights_file_is_refused(plugin, dem, tmp_path, out_dir) -> None:
    src = Path(BUNDLED_DIR) / "dem_sr_x4.safetensors"
    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(src.read_bytes()[:5000])
    shutil.copy(src.with_suffix(".json"), weights.with_suffix(".json"))
    _expect_failure(
        SR,
        {"INPUT": dem, "MODEL": str(weights), "OUTPUT": str(out_dir / "o.tif")},
        "not a valid safetensors file",
        (dem, str(weights)),
        out_dir,
    )


def test_weights_mismatching_card_are_refused(plugin, dem, tmp_path, out_dir) -> None:
    src = Path(BUNDLED_DIR) / "dem_sr_x4.safetensors"
    weights = tmp_path / "mine.safetensors"
    shutil.copy(src, weights)
    card = json.loads(src.with_suffix(".json").read_text())
    card["architecture"]["num_feat"] = 48
    weights.with_suffix(".json").write_text(json.dumps(card))
    _expect_failure(
        SR,
        {"INPUT": dem, "MODEL": str(weights), "OUTPUT": str(out_dir / "o.tif")},
        "do not match the architecture in its model card",
        (dem, str(weights)),
        out_dir,
    )


class _Trap:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.marker, "w"))


def test_pickle_weights_are_refused_and_never_unpickled(plugin, dem, tmp_path, out_dir) -> None:
    marker = tmp_path / "code_ran"
    weights = tmp_path / "model.pth"
    weights.write_bytes(pickle.dumps(_Trap(str(marker))))
    _expect_failure(
        SR,
        {"INPUT": dem, "MODEL": str(weights), "OUTPUT": str(out_dir / "o.tif")},
        "only safetensors weights are accepted",
        (dem, str(weights)),
        out_dir,
    )
    assert not marker.exists()


def test_unwritable_output_is_refused(plugin, dem, tmp_path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "a_file").write_text("x")
    before = _digest(dem)
    with pytest.raises(QgsProcessingException, match="does not exist or is not a folder|could not"):
        _run(SR, {"INPUT": dem, "OUTPUT": str(blocker / "a_file" / "o.tif")})
    assert _digest(dem) == before
    assert [p.name for p in blocker.iterdir()] == ["a_file"]


def test_cancel_mid_run_leaves_nothing(plugin, tmp_path, out_dir) -> None:
    src = utm_dem(tmp_path / "big.tif", shape=(96, 96))
    _expect_failure(
        SR,
        {"INPUT": src, "SCALE": 2, "TILE_SIZE": 16, "OVERLAP": 4, "OUTPUT": str(out_dir / "o.tif")},
        "Cancel",
        (src,),
        out_dir,
        feedback=CancellingFeedback(20.0),
    )


# --- evaluatedem ---------------------------------------------------------------------------


def test_evaluate_dem_metrics_difference_and_report(plugin, tmp_path, out_dir) -> None:
    ref = utm_dem(tmp_path / "ref.tif", shape=(64, 64))
    truth, transform, crs = read(ref)
    shifted = write_raster(
        str(tmp_path / "dem.tif"), (truth + 2.0)[None], Grid(crs, transform, 64, 64), ["e"]
    )
    res = _run(
        EVAL,
        {
            "INPUT": shifted,
            "REFERENCE": ref,
            "OUTPUT": str(out_dir / "diff.tif"),
            "REPORT": str(out_dir / "r.html"),
        },
    )
    assert res["RMSE"] == pytest.approx(2.0, abs=1e-4)
    assert res["BIAS"] == pytest.approx(2.0, abs=1e-4)
    assert res["SLOPE_RMSE"] == pytest.approx(0.0, abs=1e-3)
    assert res["PSNR"] == pytest.approx(
        20 * math.log10((truth.max() - truth.min()) / 2.0), abs=1e-3
    )
    diff, dtransform, dcrs = read(str(out_dir / "diff.tif"))
    assert dcrs == crs and dtransform == transform
    np.testing.assert_allclose(diff, 2.0, atol=1e-4)
    html = (out_dir / "r.html").read_text()
    assert "<svg" in html and "RMSE" in html.upper() and "Difference histogram" in html


def test_evaluate_dem_resamples_a_coarser_dem_onto_the_reference(plugin, tmp_path, out_dir) -> None:
    ref = utm_dem(tmp_path / "ref.tif", shape=(64, 64))
    lr_path = str(out_dir.parent / "lr.tif")
    truth, transform, crs = read(ref)
    lr = truth.reshape(32, 2, 32, 2).mean(axis=(1, 3))
    write_raster(lr_path, lr[None], Grid(crs, transform * Affine.scale(2), 32, 32), ["e"])
    res = _run(
        EVAL,
        {
            "INPUT": lr_path,
            "REFERENCE": ref,
            "OUTPUT": str(out_dir / "d.tif"),
            "REPORT": str(out_dir / "r.html"),
        },
    )
    assert 0 < res["RMSE"] < 0.2 * (truth.max() - truth.min())
    assert read(str(out_dir / "d.tif"))[0].shape == (64, 64)


# --- topographicphase ----------------------------------------------------------------------


def test_topographic_phase_values_and_residue(plugin, tmp_path, out_dir) -> None:
    dem_path = utm_dem(tmp_path / "dem.tif", shape=(32, 40))
    h, transform, crs = read(dem_path)
    coarse = write_raster(
        str(tmp_path / "coarse.tif"), (h + 10.0)[None], Grid(crs, transform, 40, 32), ["e"]
    )
    res = _run(
        PHASE,
        {
            "INPUT": dem_path,
            "BASELINE": 200.0,
            "COMPARE_DEM": coarse,
            "OUTPUT": str(out_dir / "p.tif"),
        },
    )
    k = 4 * math.pi * 200.0 / (0.05546576 * 880_000.0 * math.sin(math.radians(39.0)))
    assert res["HEIGHT_OF_AMBIGUITY"] == pytest.approx(2 * math.pi / k)
    with rasterio.open(out_dir / "p.tif") as src:
        assert src.count == 4 and src.crs == crs and src.transform == transform
        unwrapped, wrapped, residual = src.read(1), src.read(2), src.read(3)
    np.testing.assert_allclose(unwrapped, k * h, rtol=1e-5)
    assert wrapped.min() >= -math.pi and wrapped.max() < math.pi
    np.testing.assert_allclose(
        np.exp(1j * wrapped), np.exp(1j * unwrapped.astype(np.float64)), atol=1e-3
    )
    np.testing.assert_allclose(residual, -10.0 * k, rtol=1e-4)
    assert res["RESIDUAL_RMS"] == pytest.approx(10.0 * k, rel=1e-4)


def test_topographic_phase_loads_with_cyclic_style_and_refuses_zero_baseline(
    plugin, dem, out_dir
) -> None:
    import processing
    from qgis.core import QgsSingleBandPseudoColorRenderer

    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(PHASE, {"INPUT": dem, "OUTPUT": str(out_dir / "p.tif")})
    layer = [
        lyr for lyr in QgsProject.instance().mapLayers().values() if isinstance(lyr, QgsRasterLayer)
    ][0]
    assert (
        isinstance(layer.renderer(), QgsSingleBandPseudoColorRenderer)
        and layer.renderer().band() == 2
    )
    QgsProject.instance().removeAllMapLayers()
    empty = out_dir / "second"
    empty.mkdir()
    _expect_failure(
        PHASE,
        {"INPUT": dem, "BASELINE": 0.0, "OUTPUT": str(empty / "z.tif")},
        "zero perpendicular baseline",
        (dem,),
        empty,
    )


# --- the real qgis_process -------------------------------------------------------------------


def _qgis_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_qgis_process_runs_all_three(dem, tmp_path, out_dir) -> None:
    sr = out_dir / "sr.tif"
    proc = _qgis_process(SR, "--", f"INPUT={dem}", "SCALE=2", f"OUTPUT={sr}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(dem) as a, rasterio.open(sr) as b:
        assert b.crs == a.crs and b.bounds == pytest.approx(a.bounds) and b.width == 2 * a.width
    proc = _qgis_process(
        EVAL,
        "--",
        f"INPUT={dem}",
        f"REFERENCE={dem}",
        f"OUTPUT={out_dir / 'd.tif'}",
        f"REPORT={out_dir / 'r.html'}",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "RMSE" in proc.stdout and (out_dir / "r.html").exists()
    proc = _qgis_process(
        PHASE, "--", f"INPUT={sr}", f"COMPARE_DEM={dem}", f"OUTPUT={out_dir / 'p.tif'}"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out_dir / "p.tif") as p:
        assert p.count == 4 and p.width == 2 * 48


def test_hillshade_of_a_geographic_dem_converts_degrees_to_metres(
    plugin, tmp_path, out_dir
) -> None:
    import processing
    from dem_rasters import geographic_dem
    from qgis.core import QgsHillshadeRenderer

    src = geographic_dem(tmp_path / "geo.tif")
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(SR, {"INPUT": src, "SCALE": 2, "OUTPUT": str(out_dir / "sr.tif")})
    layer = next(iter(QgsProject.instance().mapLayers().values()))
    renderer = layer.renderer()
    assert isinstance(renderer, QgsHillshadeRenderer)
    # elevations in metres over pixels in degrees: z factor = 1 / (metres per degree)
    expected = 1 / (111_320 * math.sqrt(math.cos(math.radians(layer.extent().center().y()))))
    assert renderer.zFactor() == pytest.approx(expected, rel=1e-6)
    QgsProject.instance().removeAllMapLayers()


def test_model_widget_offers_the_task_models_and_a_file(plugin, qgis_app) -> None:
    from geohazard.processing_provider.model_widget import ModelWidgetWrapper
    from processing.gui.wrappers import DIALOG_STANDARD
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(SR)
    param = alg.parameterDefinition("MODEL")
    meta = param.metadata()["widget_wrapper"]
    assert meta["class"] is ModelWidgetWrapper and {"dem_sr_x2", "dem_sr_x4"} <= set(meta["models"])
    wrapper = ModelWidgetWrapper(param, DIALOG_STANDARD)
    items = [wrapper.combo.itemText(i) for i in range(wrapper.combo.count())]
    assert items[0] == "default" and "dem_sr_x4" in items
    assert wrapper.value() == "default"
    wrapper.setValue("/data/mine.safetensors")
    assert wrapper.value() == "/data/mine.safetensors"
