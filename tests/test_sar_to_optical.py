"""SAR-to-optical translation: enhancement, metrics, the task through the shared tiled runner,
training through the shared loop, and bad input (engine side; QGIS in test_sar_to_optical_qgis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from affine import Affine
from geohazard.engine.core.errors import Cancelled, GeohazardError
from geohazard.engine.core.progress import Reporter
from geohazard.engine.core.run_options import RunOptions
from geohazard.engine.families.sar_to_optical.card import draft_card
from geohazard.engine.families.sar_to_optical.data import PrepConfig
from geohazard.engine.families.sar_to_optical.image_enhance import (
    gaussian_kernel,
    laplacian_sharpen,
    wiener_deblur,
)
from geohazard.engine.families.sar_to_optical.metrics import RegionScores
from geohazard.engine.families.sar_to_optical.task import (
    SarToOpticalConfig,
    translate_sar_to_optical,
)
from geohazard.engine.families.sar_to_optical.training import (
    SardinetHooks,
    SardinetTrainConfig,
    masked_mae,
)
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.archs.registry import build_network
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.models.model_task import TileSettings
from geohazard.engine.models.training.loop import TrainingLoop
from rasterio.crs import CRS
from sardinet_models import TINY
from scipy import ndimage

UTM = CRS.from_epsg(32632)
DEM_MODEL = str(Path(__file__).resolve().parents[1] / "models" / "dem_sr_x4.safetensors")


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def save_tiny_model(folder: Path, fusion: str, name: str | None = None, seed: int = 0) -> str:
    torch.manual_seed(seed)
    arch = {"type": "SARDINet", "fusion": fusion, **TINY}
    net = build_network(arch).eval()
    card = draft_card(arch, PrepConfig(), name or f"tiny_{fusion.replace('-', '_')}")
    return ModelStore().save(net, card, str(folder))


def write_inputs(folder: Path, shape=(150, 170), db: bool = False) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    grid = Grid(UTM, Affine(10, 0, 400_000, 0, -10, 5_000_000), shape[1], shape[0])
    vv = rng.gamma(4.0, 0.05 / 4.0, shape)
    vh = vv * 0.2
    sar = np.stack([vv, vh]).astype(np.float32)
    sar[:, :10, :20] = np.nan  # nodata corner
    if db:
        sar = 10 * np.log10(sar)
    sar_path = write_raster(str(folder / "sar.tif"), sar, grid, ["VV", "VH"])
    rows, cols = np.mgrid[0 : shape[0] // 2 + 4, 0 : shape[1] // 2 + 4]
    dem_grid = Grid(UTM, Affine(20, 0, 399_980, 0, -20, 5_000_020), cols.shape[1], rows.shape[0])
    dem = (800 + 3.0 * cols + 2.0 * rows).astype(np.float32)
    dem_path = write_raster(str(folder / "dem.tif"), dem[None], dem_grid, ["z"])
    return sar_path, dem_path


def test_laplacian_sharpens_and_wiener_undoes_a_gaussian_blur() -> None:
    sharp = np.zeros((1, 64, 64), np.float32)
    sharp[:, 16:48, 16:48] = 200.0
    sharp += 20.0
    edge = lambda im: float(np.abs(np.diff(im[0], axis=1)).max())  # noqa: E731
    blurred = ndimage.uniform_filter(sharp, (1, 5, 5), mode="reflect")
    assert edge(laplacian_sharpen(blurred)) > edge(blurred)
    assert gaussian_kernel().shape == (9, 9) and gaussian_kernel().sum() == pytest.approx(1.0)
    box = ndimage.convolve(sharp[0], gaussian_kernel(), mode="reflect")[None]
    restored = wiener_deblur(box)
    inner = (slice(None), slice(8, -8), slice(8, -8))
    # a 9 x 9 box-like blur is not invertible; the filter still sharpens and gets closer
    assert edge(restored) > 1.5 * edge(box)
    assert np.abs(restored - sharp)[inner].mean() < 0.95 * np.abs(box - sharp)[inner].mean()
    assert restored.min() >= 0.0 and restored.max() <= 255.0


def test_region_scores_of_a_perfect_and_a_wrong_prediction() -> None:
    rng = np.random.default_rng(1)
    target = rng.uniform(0, 1, (3, 40, 40))
    classes = np.zeros((40, 40), np.uint8)
    classes[:, 20:] = 3  # shadow on the right half
    valid = np.ones((40, 40), bool)
    scores = RegionScores()
    scores.add(target, target, valid, classes)
    res = scores.result()
    assert res["global"]["mse"] == 0.0 and res["global"]["ssim"] == pytest.approx(1.0)
    assert res["shadow"]["pixels"] == 800 and np.isnan(res["layover"]["mse"])
    wrong = target.copy()
    wrong[:, :, 20:] = 0.0
    scores = RegionScores()
    scores.add(wrong, target, valid, classes)
    res = scores.result()
    assert res["undistorted"]["mse"] == 0.0 and res["shadow"]["mse"] > 0.2
    assert res["global"]["psnr_db"] == pytest.approx(10 * np.log10(1 / res["global"]["mse"]))


@pytest.mark.parametrize("fusion", ["late", "sar-only"])
def test_translation_writes_rgb_on_the_sar_grid_tiled_like_untiled(tmp_path, fusion) -> None:
    sar, dem = write_inputs(tmp_path / "in")
    model = save_tiny_model(tmp_path / "models", fusion)
    whole, tiled = str(tmp_path / "whole.tif"), str(tmp_path / "tiled.tif")
    base = dict(fusion=fusion, model=model)
    dem_arg = None if fusion == "sar-only" else dem
    cpu = RunOptions(device="cpu")
    translate_sar_to_optical(
        sar, dem_arg, whole, SarToOpticalConfig(**base, tiles=TileSettings(512, 0)), cpu
    )
    summary = translate_sar_to_optical(
        sar, dem_arg, tiled, SarToOpticalConfig(**base, tiles=TileSettings(96, 48)), cpu
    )
    assert summary["tiles"] > 1
    with rasterio.open(whole) as a, rasterio.open(tiled) as b, rasterio.open(sar) as s:
        assert a.count == 3 and a.transform == s.transform and a.crs == s.crs
        x, y = a.read(), b.read()
        assert a.tags()["GEOHAZARD_FUSION"] == fusion
    assert np.isnan(x[:, :10, :20]).all() and np.isfinite(x[:, 20:, 30:]).all()
    assert 0.0 <= np.nanmin(x) and np.nanmax(x) <= 255.0
    assert np.nanmax(np.abs(x - y)) < 2.0  # colour levels


def test_sar_in_db_and_enhancements(tmp_path) -> None:
    sar_lin, dem = write_inputs(tmp_path / "lin")
    sar_db, _ = write_inputs(tmp_path / "db", db=True)
    model = save_tiny_model(tmp_path / "models", "early")
    out = {}
    for name, sar, enhance in (
        ("lin", sar_lin, "none"),
        ("db", sar_db, "none"),
        ("lap", sar_lin, "laplacian"),
        ("wie", sar_lin, "wiener"),
    ):
        path = str(tmp_path / f"{name}.tif")
        cfg = SarToOpticalConfig(fusion="early", model=model, enhance=enhance)
        translate_sar_to_optical(sar, dem, path, cfg, RunOptions(device="cpu"))
        with rasterio.open(path) as f:
            out[name] = f.read()
    assert np.nanmax(np.abs(out["lin"] - out["db"])) < 1e-2  # dB recognised and converted
    # an untrained network's output is nearly flat, so the filters change it only slightly
    # (their effect is measured in test_laplacian_sharpens_and_wiener_undoes_a_gaussian_blur)
    valid = np.isfinite(out["lin"])
    assert np.array_equal(valid, np.isfinite(out["lap"]))
    assert not np.array_equal(out["lin"][valid], out["lap"][valid])
    assert not np.array_equal(out["lin"][valid], out["wie"][valid])


def test_bad_input_is_refused_and_nothing_is_left(tmp_path) -> None:
    sar, dem = write_inputs(tmp_path / "in")
    models = tmp_path / "models"
    late = save_tiny_model(models, "late")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = str(out_dir / "o.tif")
    grid = Grid(UTM, Affine(10, 0, 400_000, 0, -10, 5_000_000), 170, 150)
    one = write_raster(str(tmp_path / "one.tif"), np.ones((1, 150, 170)), grid, ["VV"])
    far_grid = Grid(UTM, Affine(10, 0, 100_000, 0, -10, 5_000_000), 50, 50)
    far = write_raster(str(tmp_path / "far.tif"), np.ones((1, 50, 50)), far_grid, ["z"])
    corrupt = models / "broken.safetensors"
    corrupt.write_bytes(Path(late).read_bytes()[:200])
    Path(str(corrupt)[: -len(".safetensors")] + ".json").write_bytes(
        Path(late[: -len(".safetensors")] + ".json").read_bytes()
    )
    cases = [
        (one, dem, SarToOpticalConfig(model=late), "exactly two bands, VV then VH"),
        (sar, far, SarToOpticalConfig(model=late), "does not overlap"),
        (sar, dem, SarToOpticalConfig(fusion="early", model=late), "is a late SARDINet"),
        (sar, None, SarToOpticalConfig(model=late), "needs a DEM"),
        (sar, dem, SarToOpticalConfig(model=str(corrupt)), "corrupt|could not|cannot|invalid"),
        (sar, dem, SarToOpticalConfig(model=DEM_MODEL), "not for sar-to-optical"),
        (sar, dem, SarToOpticalConfig(model=late, enhance="sharp"), "ENHANCE must be"),
    ]
    for sar_in, dem_in, cfg, match in cases:
        with pytest.raises(GeohazardError, match=match):
            translate_sar_to_optical(sar_in, dem_in, out, cfg, RunOptions(device="cpu"))
        assert list(out_dir.iterdir()) == []
    calls = []
    cancel = Reporter(progress=calls.append, is_canceled=lambda: len(calls) > 0)
    with pytest.raises(Cancelled):
        translate_sar_to_optical(
            sar,
            dem,
            out,
            SarToOpticalConfig(model=late, tiles=TileSettings(64, 16)),
            RunOptions(device="cpu"),
            cancel,
        )
    assert list(out_dir.iterdir()) == []


def _patches(n: int = 6, size: int = 32, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 3, size, size)).astype(np.float16)
    y = (np.stack([x[:, 0], x[:, 1], x[:, 2]], 1).astype(np.float32) * 255).astype(np.uint8)
    return {
        "inputs": x,
        "targets": y,
        "valid": np.ones((n, size, size), bool),
        "classes": np.zeros((n, size, size), np.uint8),
    }


def test_training_through_the_shared_loop_resumes_and_writes_a_card(tmp_path) -> None:
    arch = {"type": "SARDINet", "fusion": "intermediate", **TINY}
    cfg = SardinetTrainConfig(
        arch, steps=6, batch_size=2, learning_rate=3e-3, crop=24, validate_every=3, seed=1
    )
    hooks = SardinetHooks(cfg, _patches(), _patches(seed=1))
    loop = TrainingLoop(hooks, hooks.loop_config(), str(tmp_path / "run"), log=lambda m: None)
    net = loop.run()
    assert loop.history and "mse" in loop.history[-1]
    resumed = TrainingLoop(
        SardinetHooks(cfg, _patches(), _patches(seed=1)),
        hooks.loop_config(),
        str(tmp_path / "run"),
        log=lambda m: None,
    )
    assert resumed.resume() and resumed.stage_index == 1  # finished: nothing left to run
    path = ModelStore().save(net, draft_card(arch, PrepConfig(), "trained"), str(tmp_path / "m"))
    loaded = ModelStore(str(tmp_path / "m")).load(
        __import__("geohazard.engine.families.sar_to_optical.task", fromlist=["TASK"]).TASK,
        path,
        "",
    )
    assert loaded.card.architecture["fusion"] == "intermediate"
    x = torch.rand(1, 3, 16, 16)
    y = torch.rand(1, 3, 16, 16)
    m = torch.zeros(1, 16, 16, dtype=torch.bool)
    m[:, :8] = True
    expected = torch.abs(x - y)[:, :, :8].mean()
    assert masked_mae(x, y, m).item() == pytest.approx(expected.item(), rel=1e-5)
