"""Training the deep offset tracker through the shared loop: losses, exact resume, calibration,
held-out evaluation and a card written through the store and read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from deep_offset_models import PRIOR, TINY_ARCH
from geohazard.engine.families.deep_offsets.card import deep_offsets_card
from geohazard.engine.families.deep_offsets.dataset import BatchSampler, build_scenes, load_scene
from geohazard.engine.families.deep_offsets.evaluate import format_table, held_out_metrics
from geohazard.engine.families.deep_offsets.task import TASK
from geohazard.engine.families.deep_offsets.training import (
    TrainConfig,
    calibrate_sigma,
    make_trainer,
    masked_huber,
)
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.simulate.pair_sampler import SamplerConfig
from geohazard.engine.simulate.textures import SimulatedSource

SAMPLER = SamplerConfig(size=96, max_px=4.0)


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cache = tmp_path_factory.mktemp("scenes")
    train = build_scenes(
        [SimulatedSource("simulated-0", 0)],
        [(i, None, None) for i in range(3)],
        SAMPLER,
        PRIOR,
        str(cache / "train"),
    )
    test = build_scenes(
        [SimulatedSource("simulated-2", 2)],
        [(100, "fault", "multipixel"), (101, "glacier", "subpixel")],
        SAMPLER,
        PRIOR,
        str(cache / "test"),
    )
    return train, test, cache


def _config(steps: int) -> TrainConfig:
    return TrainConfig(
        architecture=dict(TINY_ARCH),
        prior=PRIOR,
        sampler=SAMPLER,
        patch=32,
        batch_size=2,
        steps=steps,
        validate_every=2,
    )


def test_scenes_are_cropped_to_the_prior_interior_and_cached(scenes) -> None:
    train, _test, cache = scenes
    s = train[0]
    side = SAMPLER.size - 2 * PRIOR.margin
    assert s.reference.shape == (side, side) and s.prior.shape == (8, side, side)
    assert s.truth.shape == (2, side, side) and s.valid.dtype == bool
    again = load_scene(str(next((cache / "train").glob("scene_0_*.npz"))))
    np.testing.assert_array_equal(again.secondary, s.secondary)


def test_batches_are_augmented_consistently(scenes) -> None:
    train, _test, _cache = scenes
    batch = BatchSampler(train, PRIOR, 32, seed=1).batch(4)
    assert batch["reference"].shape == (4, 1, 32, 32) and batch["prior"].shape == (4, 8, 32, 32)
    assert batch["truth"].shape == (4, 2, 32, 32) and batch["valid"].max() == 1.0
    # the normalised amplitudes are standardised per crop
    assert abs(float(batch["reference"][0].mean())) < 1e-4


def test_masked_huber_ignores_invalid_pixels() -> None:
    pred = torch.zeros(1, 2, 4, 4)
    truth = torch.zeros(1, 2, 4, 4)
    truth[..., 0, 0] = 100.0
    valid = torch.ones(1, 1, 4, 4)
    valid[..., 0, 0] = 0
    assert float(masked_huber(pred, truth, valid, 0.1)) == 0.0
    valid[..., 0, 0] = 1
    assert float(masked_huber(pred, truth, valid, 0.1)) > 1.0


def test_resume_continues_exactly(scenes, tmp_path: Path) -> None:
    train, test, _cache = scenes
    straight = make_trainer(_config(4), train, test, str(tmp_path / "a"), log=lambda _m: None)
    net_a = straight.run()
    first = make_trainer(_config(4), train, test, str(tmp_path / "b"), log=lambda _m: None)
    # stop after two steps by cancelling, as a user would
    from geohazard.engine.core.errors import Cancelled
    from geohazard.engine.core.progress import Reporter

    calls = {"n": 0}

    def cancel_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    first.rep = Reporter(is_canceled=cancel_after_two)
    with pytest.raises(Cancelled):
        first.run()
    second = make_trainer(_config(4), train, test, str(tmp_path / "b"), log=lambda _m: None)
    assert second.resume() and second.step == 2
    net_b = second.run()
    for (k, a), (_, b) in zip(net_a.state_dict().items(), net_b.state_dict().items()):
        torch.testing.assert_close(a, b, msg=k)


def test_evaluation_and_card_round_trip(scenes, tmp_path: Path) -> None:
    train, test, _cache = scenes
    net = make_trainer(_config(2), train, test, str(tmp_path / "run"), log=lambda _m: None).run()
    scale = calibrate_sigma(net, test)
    assert scale > 0
    groups = held_out_metrics(net, test)
    assert set(groups) == {"all", "fault/multipixel", "glacier/subpixel", "region simulated-2"}
    row = groups["all"]
    for key in ("model_dense_rmse_px", "ncc_prior_dense_rmse_px", "classical_at_centres_rmse_px"):
        assert np.isfinite(row[key]) and row[key] >= 0
    assert "| all |" in format_table(groups)
    card = deep_offsets_card(
        "trained_tiny",
        dict(TINY_ARCH),
        PRIOR,
        sum(p.numel() for p in net.parameters()),
        "test",
        {"steps": 2},
        "two simulated test scenes",
        groups,
        scale,
        4.5,
        "notes",
        "limits",
    )
    beats = (
        row["model_dense_rmse_px"] <= row["ncc_prior_dense_rmse_px"]
        and row["model_at_centres_rmse_px"] <= row["classical_at_centres_rmse_px"]
    )
    assert card.held_out is not None and card.held_out.model_beats_baseline == beats
    store = ModelStore(str(tmp_path / "models"))
    store.save(net, card, str(tmp_path / "models"))
    loaded = store.load(TASK, "trained_tiny", "")
    assert loaded.card.normalisation.params["sigma_scale"] == pytest.approx(scale)
    assert loaded.card.held_out.metrics["model (every pixel)"]["all rmse_px"] == pytest.approx(
        row["model_dense_rmse_px"]
    )
