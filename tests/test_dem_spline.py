"""The back-projected cubic spline: engine (numpy and torch), MODEL=spline of
geohazard:demsuperresolution and the classical baselines of geohazard:evaluatedem, in real QGIS."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from dem_rasters import read, utm_dem
from geohazard.engine.dem.spline_upsample import spline_bp_upsample
from geohazard.engine.io.raster_io import Grid, write_raster
from qgis.core import QgsProcessingException, QgsProcessingFeedback

SR = "geohazard:demsuperresolution"
EVAL = "geohazard:evaluatedem"


def _run(alg: str, params: dict) -> dict:
    import processing

    return processing.run(alg, params, feedback=QgsProcessingFeedback())


def _block_means(hr: np.ndarray, s: int) -> np.ndarray:
    r, c = hr.shape[0] // s, hr.shape[1] // s
    return hr.astype(np.float64).reshape(r, s, c, s).mean(axis=(1, 3))


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_spline_blocks_average_to_the_input_and_it_is_smooth(tmp_path, scale) -> None:
    lr, _, _ = read(utm_dem(tmp_path / "d.tif", shape=(37, 45), seed=11))
    hr = spline_bp_upsample(lr, scale)
    assert hr.shape == (37 * scale, 45 * scale)
    np.testing.assert_allclose(_block_means(hr, scale), lr, atol=2e-3)
    # Exact on a plane away from the mirrored borders (a cubic spline reproduces linear trends),
    # so nothing is invented there.
    rows, cols = np.mgrid[0:40, 0:48].astype(np.float64)
    plane = 1000.0 + 3.0 * rows - 2.0 * cols
    up = spline_bp_upsample(plane, scale).astype(np.float64)
    r, c = (np.mgrid[0 : 40 * scale, 0 : 48 * scale] + 0.5) / scale - 0.5
    inner = (slice(10 * scale, 30 * scale), slice(10 * scale, 38 * scale))
    np.testing.assert_allclose(up[inner], (1000.0 + 3.0 * r - 2.0 * c)[inner], atol=2e-3)


def test_spline_keeps_nodata_holes_and_does_not_drag_neighbours(tmp_path) -> None:
    lr, _, _ = read(utm_dem(tmp_path / "d.tif", shape=(30, 30), seed=4))
    holed = lr.copy()
    holed[10:14, 5:9] = np.nan
    hr = spline_bp_upsample(holed, 4)
    hole = np.zeros(holed.shape, bool)
    hole[10:14, 5:9] = True
    big_hole = np.repeat(np.repeat(hole, 4, 0), 4, 1)
    assert np.isnan(hr[big_hole]).all() and np.isfinite(hr[~big_hole]).all()
    means = _block_means(np.where(big_hole, 0, hr), 4)
    np.testing.assert_allclose(means[~hole], lr[~hole], atol=2e-3)


def test_torch_module_and_untrained_network_equal_the_numpy_spline(tmp_path) -> None:
    from geohazard.engine.models.archs.registry import build_network
    from geohazard.engine.models.archs.spline_bp import SplineBackProjection

    lr, _, _ = read(utm_dem(tmp_path / "d.tif", shape=(33, 41), seed=2))
    x = ((lr - lr.mean()) / lr.std()).astype(np.float32)
    want = spline_bp_upsample(x, 4)
    with torch.no_grad():
        got = SplineBackProjection(4)(torch.from_numpy(x)[None, None])[0, 0].numpy()
        net = build_network(
            {
                "type": "RRDBNet",
                "scale": 4,
                "num_feat": 8,
                "num_block": 1,
                "num_grow_ch": 4,
                "spline_skip": True,
                "back_projection": True,
                "affine_equivariant": True,
            }
        ).eval()
        untrained = net(torch.from_numpy(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(untrained, want, atol=1e-5)
    # Trained weights change the detail, never the block means (smooth back-projection).
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
        changed = net(torch.from_numpy(x)[None, None])[0, 0].numpy()
    assert np.abs(changed - want).max() > 1e-3
    np.testing.assert_allclose(_block_means(changed, 4), x, atol=1e-5)
    assert not any("kernels" in k for k in net.state_dict())  # fixed, never saved


def test_model_spline_runs_through_demsuperresolution(plugin, tmp_path, out_dir) -> None:
    dem = utm_dem(tmp_path / "dem.tif", shape=(70, 150), seed=8)
    before = hashlib.sha256(Path(dem).read_bytes()).hexdigest()
    out = out_dir / "spline.tif"
    res = _run(
        SR,
        {"INPUT": dem, "SCALE": 4, "MODEL": "spline", "TILE_SIZE": 64, "OUTPUT": str(out)},
    )
    assert res["OUTPUT"] == str(out)
    assert hashlib.sha256(Path(dem).read_bytes()).hexdigest() == before
    assert sorted(p.name for p in out_dir.iterdir()) == ["spline.qml", "spline.tif"]
    lr, _, _ = read(dem)
    with rasterio.open(out) as b:
        assert b.tags()["GEOHAZARD_MODEL"] == "spline"
        hr = b.read(1)
    np.testing.assert_allclose(_block_means(hr, 4), lr, atol=5e-3)  # across tile seams too
    whole = spline_bp_upsample(lr, 4)
    assert np.abs(hr - whole).max() < 0.05  # tiles agree with the untiled spline (relief 600 m)


def test_model_spline_output_is_styled_like_a_model_output(plugin, tmp_path, out_dir) -> None:
    import processing
    from qgis.core import QgsHillshadeRenderer, QgsProject, QgsRasterLayer

    dem = utm_dem(tmp_path / "dem.tif", shape=(24, 24))
    QgsProject.instance().removeAllMapLayers()
    processing.runAndLoadResults(
        SR, {"INPUT": dem, "SCALE": 2, "MODEL": "Spline", "OUTPUT": str(out_dir / "s.tif")}
    )
    layers = [
        lyr for lyr in QgsProject.instance().mapLayers().values() if isinstance(lyr, QgsRasterLayer)
    ]
    assert len(layers) == 1 and isinstance(layers[0].renderer(), QgsHillshadeRenderer)
    QgsProject.instance().removeAllMapLayers()
    reg_alg = _algorithm(SR)
    assert "spline" in reg_alg.shortHelpString().lower()
    assert "back-projection" in reg_alg.shortHelpString()


def _algorithm(alg_id: str):  # type: ignore[no-untyped-def]
    from qgis.core import QgsApplication

    return QgsApplication.processingRegistry().algorithmById(alg_id)


def test_evaluatedem_lists_the_classical_baselines(plugin, tmp_path, out_dir) -> None:
    ref = utm_dem(tmp_path / "ref.tif", shape=(96, 96), seed=6)
    truth, transform, crs = read(ref)
    low = write_raster(
        str(tmp_path / "low.tif"),
        _block_means(truth, 2).astype(np.float32)[None],
        Grid(crs, transform * Affine.scale(2), 48, 48),
        ["elevation (m)"],
    )
    spline_out = str(tmp_path / "spline.tif")
    _run(SR, {"INPUT": low, "SCALE": 2, "MODEL": "spline", "OUTPUT": spline_out})
    res = _run(
        EVAL,
        {
            "INPUT": spline_out,
            "REFERENCE": ref,
            "LOW_RESOLUTION": low,
            "OUTPUT": str(out_dir / "d.tif"),
            "REPORT": str(out_dir / "r.html"),
        },
    )
    # The spline baseline is what MODEL=spline gives: the same numbers.
    assert res["SPLINE_RMSE"] == pytest.approx(res["RMSE"], rel=1e-3)
    assert res["SPLINE_SLOPE_RMSE"] == pytest.approx(res["SLOPE_RMSE"], rel=1e-3)
    assert 0 < res["SPLINE_RMSE"] < res["CUBIC_RMSE"] < res["NEAREST_RMSE"]
    assert res["SPLINE_SLOPE_RMSE"] < res["NEAREST_SLOPE_RMSE"]
    html = (out_dir / "r.html").read_text()
    assert "Cubic spline with back-projection" in html and "gdalwarp -r cubic" in html
    assert sorted(p.name for p in out_dir.iterdir()) == ["d.qml", "d.tif", "r.html"]
    # Without the low-resolution DEM the baselines are not computed (outputs absent).
    plain = _run(EVAL, {"INPUT": spline_out, "REFERENCE": ref, "OUTPUT": str(out_dir / "e.tif")})
    assert "SPLINE_RMSE" not in plain or plain["SPLINE_RMSE"] is None


def test_evaluatedem_refuses_a_low_resolution_dem_of_no_whole_ratio(
    plugin, tmp_path, out_dir
) -> None:
    ref = utm_dem(tmp_path / "ref.tif", shape=(60, 60), seed=6)
    truth, transform, crs = read(ref)
    odd = write_raster(
        str(tmp_path / "odd.tif"),
        truth[:40, :40][None],
        Grid(crs, transform * Affine.scale(1.5), 40, 40),
        ["elevation (m)"],
    )
    with pytest.raises(QgsProcessingException, match="whole number"):
        _run(
            EVAL,
            {
                "INPUT": ref,
                "REFERENCE": ref,
                "LOW_RESOLUTION": odd,
                "OUTPUT": str(out_dir / "d.tif"),
                "REPORT": str(out_dir / "r.html"),
            },
        )
    assert list(out_dir.iterdir()) == []
