"""The shared training loop on a toy regression, on the CPU: exact resume after an interruption,
NaN and exploding losses stop training and keep the last good checkpoint, torch schedulers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from geohazard.engine.core.errors import Cancelled
from geohazard.engine.core.progress import Reporter
from geohazard.engine.models.training.loop import (
    LoopConfig,
    Stage,
    TrainingDiverged,
    TrainingHooks,
    TrainingLoop,
)
from torch import nn


class Regression(TrainingHooks):
    """y = 3x - 1 with noise; the batch drawn from a generator kept in the hooks' state."""

    primary = "model"

    def __init__(self, poison_at: int | None = None, poison: float = float("nan")) -> None:
        self.rng = np.random.default_rng(0)
        self.poison_at, self.poison, self.calls = poison_at, poison, 0

    def models(self) -> dict[str, nn.Module]:
        return {"model": nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))}

    def optimizers(self, stage: str, models: dict[str, nn.Module]) -> dict[str, Any]:
        lr = 0.05 if stage == "warm" else 0.01
        return {"model": torch.optim.Adam(models["model"].parameters(), lr=lr)}

    def schedulers(self, stage: str, optimizers: dict[str, Any], steps: int) -> list[Any]:
        return [torch.optim.lr_scheduler.StepLR(optimizers["model"], step_size=3, gamma=0.5)]

    def batch(self, stage: str, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.rng.normal(size=(16, 1)).astype(np.float32)
        y = 3 * x - 1 + 0.01 * self.rng.normal(size=(16, 1)).astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(y)

    def train_step(
        self, stage: str, batch: Any, models: dict[str, nn.Module], optimizers: Any
    ) -> dict[str, float]:
        self.calls += 1
        x, y = batch
        loss = ((models["model"](x) - y) ** 2).mean()
        if self.poison_at is not None and self.calls >= self.poison_at:
            loss = loss * self.poison
        optimizers["model"].zero_grad()
        loss.backward()
        optimizers["model"].step()
        return {"loss": float(loss.detach())}

    def validate(self, models: dict[str, nn.Module]) -> dict[str, float]:
        x = torch.linspace(-2, 2, 50)[:, None]
        with torch.no_grad():
            return {"mse": float(((models["model"](x) - (3 * x - 1)) ** 2).mean())}

    def score(self, metrics: dict[str, float]) -> float:
        return metrics["mse"]

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


CFG = LoopConfig(stages=[Stage("warm", 7), Stage("fine", 6)], validate_every=4, seed=1)


def _loop(
    folder: Path, hooks: TrainingHooks | None = None, rep: Reporter | None = None
) -> TrainingLoop:
    return TrainingLoop(hooks or Regression(), CFG, str(folder), rep, log=lambda m: None)


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path: Path) -> None:
    whole = _loop(tmp_path / "a")
    net_a = whole.run()
    polls = [0]

    def cancel_after_9() -> bool:
        polls[0] += 1
        return polls[0] > 9

    first = _loop(tmp_path / "b", rep=Reporter(is_canceled=cancel_after_9))
    with pytest.raises(Cancelled):
        first.run()
    second = _loop(tmp_path / "b")
    assert second.resume() and (second.stage.name, second.step) == ("fine", 2)
    net_b = second.run()
    assert second.steps_done == whole.steps_done == 13
    opt_a, opt_b = whole.optimizers["model"].state_dict(), second.optimizers["model"].state_dict()
    assert [s["step"] for s in opt_a["state"].values()] == [
        s["step"] for s in opt_b["state"].values()
    ]
    for k, v in net_a.state_dict().items():
        assert torch.equal(v, net_b.state_dict()[k]), k
    assert whole.history == second.history
    assert (
        whole.optimizers["model"].param_groups[0]["lr"]
        == second.optimizers["model"].param_groups[0]["lr"]
    )


def _diverge(
    folder: Path, cfg: LoopConfig, poison_at: int, poison: float, message: str
) -> TrainingLoop:
    loop = TrainingLoop(Regression(poison_at, poison), cfg, str(folder), log=lambda m: None)
    with pytest.raises(TrainingDiverged, match=message) as err:
        loop.run()
    assert "last good checkpoint" in str(err.value) and "resume" in str(err.value)
    good = TrainingLoop(Regression(), cfg, str(folder), log=lambda m: None)
    assert good.resume()
    for v in good.models["model"].state_dict().values():
        assert torch.isfinite(v).all()
    return good


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    # NaN at the 11th step (the 4th of stage "fine"): the last checkpoint is the end of "warm"
    good = _diverge(tmp_path, CFG, 11, float("nan"), "loss became nan at stage fine, step 4")
    assert (good.stage.name, good.step) == ("warm", 7)


def test_exploding_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = LoopConfig(stages=[Stage("warm", 40)], validate_every=4, seed=1)
    good = _diverge(tmp_path, cfg, 30, 1e9, "loss exploded")
    assert good.step == 28  # checkpoints every 4 steps; step 30 exploded


def test_on_validation_sees_the_history_after_every_validation(tmp_path: Path) -> None:
    seen: list[list[int]] = []
    loop = TrainingLoop(
        Regression(),
        CFG,
        str(tmp_path / "run"),
        log=lambda m: None,
        on_validation=lambda history: seen.append([int(e["step"]) for e in history]),
    )
    loop.run()
    # stage "warm" (7 steps) validates at 4 and 7, stage "fine" (6 steps) at 4 and 6
    assert seen == [[4], [4, 7], [4, 7, 4], [4, 7, 4, 6]]


def test_live_log_rewrites_the_csv_and_warns_once_when_it_cannot(tmp_path: Path) -> None:
    import csv

    from geohazard.engine.models.training.finetune import live_log

    warnings: list[str] = []
    rep = Reporter(warning=warnings.append)
    path = tmp_path / "log.csv"
    write = live_log(str(path), lambda h: [{"step": e["step"], "mse": e["mse"]} for e in h], rep)
    write([{"step": 4, "mse": 0.5}])
    write([{"step": 4, "mse": 0.5}, {"step": 8, "mse": 0.25}])
    with open(path, newline="") as fh:
        assert [r["step"] for r in csv.DictReader(fh)] == ["4", "8"]
    blocked = live_log(str(tmp_path / "file.txt" / "log.csv"), lambda h: h, rep)
    (tmp_path / "file.txt").write_text("not a folder")
    blocked([{"step": 1}])
    blocked([{"step": 2}])
    assert len(warnings) == 1 and "not updated while training" in warnings[0]
