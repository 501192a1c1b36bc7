"""Training pieces: fractal terrain, elevation-stratified sampling, two-stage training with
checkpoints and resume, metrics and topographic phase formulas."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from geohazard.engine.core.errors import Cancelled
from geohazard.engine.core.progress import Reporter
from geohazard.engine.dem.dem_metrics import compare_dems, metres_per_pixel, slope_degrees
from geohazard.engine.dem.sample_data import JACKSBORO_TEST, jacksboro_dem
from geohazard.engine.dem.terrain import fractal_terrain, random_terrain
from geohazard.engine.families.dem_sr.degrade import block_mean, upsample
from geohazard.engine.families.dem_sr.patches import PatchSampler, PatchSource
from geohazard.engine.families.dem_sr.training import TrainConfig, ValidationSet, make_trainer
from geohazard.engine.sar.insar_phase import PhaseGeometry, wrap

TINY_G = {
    "type": "RRDBNet",
    "scale": 2,
    "num_feat": 8,
    "num_block": 1,
    "num_grow_ch": 4,
    "cubic_skip": True,
    "affine_equivariant": True,
    "back_projection": True,
}


def test_fractal_terrain_is_seeded_and_scaled() -> None:
    a = fractal_terrain((64, 64), 1)
    assert np.array_equal(a, fractal_terrain((64, 64), 1))
    assert not np.array_equal(a, fractal_terrain((64, 64), 2))
    assert a.min() == pytest.approx(200.0, abs=1e-3) and a.max() == pytest.approx(1000.0, abs=1e-2)
    assert np.isfinite(random_terrain((32, 48), 5)).all()


def test_jacksboro_sample_dem_is_georeferenced() -> None:
    dem, grid = jacksboro_dem()
    assert dem.shape == (344, 403) and grid.crs.to_epsg() == 4326
    assert grid.bounds == pytest.approx((-84.41375, 36.44625, -84.0779167, 36.7329167), abs=1e-6)
    assert 236 <= dem.min() and dem.max() <= 1076


def test_sampler_oversamples_high_terrain_and_respects_the_mask() -> None:
    # low terrain covers 90% of the array, a high plateau 10%
    arr = np.full((200, 200), 100.0, np.float32)
    arr[:, 180:] = 3000.0
    arr += np.random.default_rng(0).normal(0, 1, arr.shape).astype(np.float32)
    allowed = np.ones(arr.shape, bool)
    allowed[:100, :100] = False
    sampler = PatchSampler(
        [PatchSource(arr, allowed)], hr_size=16, scale=2, seed=0, elevation_bins=4
    )
    positions = np.concatenate(sampler.bins[0])
    assert all(r >= 100 or c >= 100 for r, c in positions), "a patch overlaps the masked block"
    uniform = PatchSampler([PatchSource(arr, allowed)], 16, 2, 0, elevation_bins=1)
    share = [
        np.mean([s.draw_position()[2] + 8 >= 180 for _ in range(2000)]) for s in (sampler, uniform)
    ]
    assert (
        share[0] > 2 * share[1]
    ), f"high terrain drawn {share[0]:.2f} stratified vs {share[1]:.2f} uniform"
    lr, hr = sampler.batch(5)
    assert lr.shape == (5, 1, 8, 8) and hr.shape == (5, 1, 16, 16)
    # patches are normalised with the statistics of their LR version
    assert torch.allclose(lr.mean(dim=(1, 2, 3)), torch.zeros(5), atol=1e-4)


def test_two_stage_training_checkpoints_and_resumes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = [PatchSource(rng.random((64, 64)).astype(np.float32))]
    dems = [PatchSource(fractal_terrain((64, 64), 3))]
    samplers = {
        "images": lambda s: PatchSampler(images, 32, 2, s, 1),
        "dems": lambda s: PatchSampler(dems, 32, 2, s, 4),
    }
    val = ValidationSet([fractal_terrain((32, 32), 9)], [(30.0, 30.0)])
    disc = {"type": "VGGStyleDiscriminator", "num_feat": 4, "input_size": 32, "dense_features": 8}
    cfg = TrainConfig(
        scale=2,
        generator=TINY_G,
        discriminator=disc,
        hr_patch=32,
        batch_size=2,
        pretrain_steps=2,
        finetune_steps=2,
        gan_steps=2,
        validate_every=2,
    )
    full = make_trainer(cfg, samplers, val, str(tmp_path / "a"), log=lambda m: None)
    g_full = full.run()
    assert [h["stage"] for h in full.history] == ["pretrain", "finetune", "gan"]
    assert {"rmse_m", "psnr_db", "bicubic_rmse_m"} <= set(full.history[0])
    # the same run cancelled after 3 steps (inside the finetune stage), then resumed
    calls = [0]

    def cancel_after_three() -> bool:
        calls[0] += 1
        return calls[0] > 3

    first = make_trainer(
        cfg,
        samplers,
        val,
        str(tmp_path / "b"),
        Reporter(is_canceled=cancel_after_three),
        log=lambda m: None,
    )
    with pytest.raises(Cancelled):
        first.run()
    second = make_trainer(cfg, samplers, val, str(tmp_path / "b"), log=lambda m: None)
    assert second.resume() and second.stage.name == "finetune" and second.step == 1
    g_resumed = second.run()
    assert second.steps_done == full.steps_done == 6
    assert [h["stage"] for h in second.history] == ["pretrain", "finetune", "gan"]
    for k, v in g_full.state_dict().items():
        assert torch.equal(v, g_resumed.state_dict()[k]), k
    for name in ("generator", "discriminator"):
        assert second.optimizers[name].state_dict()["state"], "optimiser state restored"


def test_metrics_on_known_cases() -> None:
    ref = fractal_terrain((40, 40), 4)
    same = compare_dems(ref, ref, 30.0, 30.0)
    assert same.rmse_m == 0 and same.psnr_db == math.inf and same.ssim == pytest.approx(1.0)
    off = compare_dems(ref + 3.0, ref, 30.0, 30.0)
    assert off.rmse_m == pytest.approx(3.0, abs=1e-4) and off.bias_m == pytest.approx(3.0, abs=1e-4)
    assert off.slope_rmse_deg == pytest.approx(0, abs=1e-3)
    yy, xx = np.mgrid[0:10, 0:10].astype(np.float64)
    plane = xx * 30.0  # rises 30 m per 30 m pixel: 45 degrees
    assert np.nanmean(slope_degrees(plane, 30.0, 30.0)) == pytest.approx(45.0)
    dx, dy = metres_per_pixel((1 / 1200, 1 / 1200), True, 36.6)
    assert dy == pytest.approx(92.5, abs=0.5) and dx == pytest.approx(74.5, abs=0.5)


def test_block_mean_and_upsamplers() -> None:
    hr = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert np.array_equal(block_mean(hr, 2), np.array([[2.5, 4.5], [10.5, 12.5]], np.float32))
    lr = np.full((3, 3), 7.0, np.float32)
    assert np.allclose(upsample(lr, 4, "bicubic"), 7.0) and upsample(lr, 4, "nearest").shape == (
        12,
        12,
    )


def test_phase_geometry() -> None:
    g = PhaseGeometry()
    assert g.height_of_ambiguity_m == pytest.approx(
        0.05546576 * 880_000 * math.sin(math.radians(39)) / 300
    )
    assert wrap(np.array([math.pi, -math.pi, 3 * math.pi + 0.1])).tolist() == pytest.approx(
        [-math.pi, -math.pi, -math.pi + 0.1], abs=1e-6
    )


def test_held_out_block_is_not_sampled_in_training() -> None:
    from geohazard.engine.families.dem_sr.recipe import dem_sources

    src = dem_sources(seed=0)[0]
    r0, r1, c0, c1 = JACKSBORO_TEST
    assert not src.allowed[r0:r1, c0:c1].any()
    sampler = PatchSampler([src], 64, 4, 0)
    for r, c in np.concatenate(sampler.bins[0]):
        assert r + 64 <= r0 - 4 or c >= c1 + 4


def test_ssim_matches_scikit_image() -> None:
    from geohazard.engine.dem.dem_metrics import ssim_map
    from skimage.metrics import structural_similarity

    ref = fractal_terrain((48, 40), 6).astype(np.float64)
    noisy = ref + np.random.default_rng(1).normal(0, 5, ref.shape)
    peak = float(ref.max() - ref.min())
    _, expected = structural_similarity(noisy, ref, data_range=peak, full=True, win_size=7)
    np.testing.assert_allclose(
        ssim_map(noisy, ref, peak)[3:-3, 3:-3], expected[3:-3, 3:-3], atol=1e-9
    )


def test_phase_defaults_in_the_algorithm_match_the_engine() -> None:
    from dataclasses import asdict

    from geohazard.processing_provider.topographic_phase import TopographicPhaseAlgorithm

    assert TopographicPhaseAlgorithm.DEFAULTS == asdict(PhaseGeometry())


def test_training_script_writes_weights_and_card(tmp_path: Path) -> None:
    """The script that made the bundled models, with a handful of steps."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [
            sys.executable,
            str(root / "scripts" / "train_dem_sr.py"),
            "--scale",
            "2",
            "--out-dir",
            str(tmp_path / "run"),
            "--models-dir",
            str(tmp_path / "models"),
            "--pretrain-steps",
            "2",
            "--finetune-steps",
            "2",
            "--gan-steps",
            "1",
            "--batch-size",
            "2",
            "--no-real-data",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    card = json.loads((tmp_path / "models" / "dem_sr_x2.json").read_text())
    assert card["scale"] == 2 and card["architecture"]["type"] == "RRDBNet"
    assert set(card["held_out"]["metrics"]) == {"model", "spline_bp", "gdal_cubic", "nearest"}
    assert card["held_out"]["baseline"] == "spline_bp"
    rows = card["held_out"]["by_area"]
    assert [r["degradation"] for r in rows] == ["block mean", "sensor blur"]
    assert (tmp_path / "run" / "checkpoint.safetensors").exists() and (
        tmp_path / "run" / "train.log"
    ).exists()
    from geohazard.engine.families.dem_sr.task import TASK
    from geohazard.engine.models.model_store import ModelStore

    loaded = ModelStore().load(TASK, str(tmp_path / "models" / "dem_sr_x2.safetensors"), "")
    assert loaded.card.name == "dem_sr_x2"


def test_training_runs_distributed_under_torchrun(tmp_path: Path) -> None:
    """DistributedDataParallel with two CPU processes (gloo), as a GPU cluster runs it with NCCL."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    torchrun = Path(sys.executable).with_name("torchrun")
    proc = subprocess.run(
        [
            str(torchrun),
            "--standalone",
            "--nproc_per_node=2",
            str(root / "scripts" / "train_dem_sr.py"),
            "--scale",
            "2",
            "--out-dir",
            str(tmp_path / "run"),
            "--models-dir",
            str(tmp_path / "models"),
            "--pretrain-steps",
            "2",
            "--finetune-steps",
            "1",
            "--gan-steps",
            "2",
            "--batch-size",
            "2",
            "--no-real-data",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    card = json.loads((tmp_path / "models" / "dem_sr_x2.json").read_text())
    assert card["training"]["device"].startswith("cpu, 2 process(es)")
    log = (tmp_path / "run" / "train.log").read_text()
    assert log.count("wrote dem_sr_x2") == 1, "only rank 0 logs and writes"
