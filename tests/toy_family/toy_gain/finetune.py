"""Fine-tuning the toy gain on (input, target) rasters through the shared driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.models.training.finetune import FineTuneSettings
from geohazard.engine.models.training.finetune_family import FineTunePlan, finetune
from geohazard.engine.models.training.loop import Stage, TrainingHooks
from geohazard.engine.models.training.recipe_fields import recipe_value


@dataclass(frozen=True)
class ToyRecipe:
    patch: int = recipe_value(8, "PATCH_SIZE", "Patch side (px)", 4, 64)
    steps_per_epoch: int = recipe_value(4, "STEPS_PER_EPOCH", "Steps per epoch", 1, 100)

    def validate(self) -> None:
        if self.patch < 4:
            raise GeohazardError("PATCH_SIZE must be at least 4 pixels.")


RECIPE = ToyRecipe


class ToyHooks(TrainingHooks):
    def __init__(self, x: np.ndarray, y: np.ndarray, lr: float, seed: int) -> None:
        self.x, self.y, self.lr, self.seed = x, y, lr, seed

    def models(self) -> dict[str, Any]:
        from .arch import ToyGain

        return {"model": ToyGain()}

    def optimizers(self, stage: str, models: dict[str, Any]) -> dict[str, Any]:
        import torch

        return {"model": torch.optim.SGD(models["model"].parameters(), lr=self.lr)}

    def batch(self, stage: str, step: int) -> Any:
        import torch

        return torch.from_numpy(self.x[None, None]), torch.from_numpy(self.y[None, None])

    def train_step(self, stage: str, batch: Any, models: Any, optimizers: Any) -> dict[str, float]:
        x, y = batch
        loss = ((models["model"](x) - y) ** 2).mean()
        optimizers["model"].zero_grad()
        loss.backward()
        optimizers["model"].step()
        return {"loss": float(loss.detach())}

    def validate(self, models: dict[str, Any]) -> dict[str, float]:
        return {"mse": measure(models["model"], self.x, self.y)}

    def score(self, metrics: dict[str, float]) -> float:
        return metrics["mse"]


def measure(net: Any, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float(((net(torch.from_numpy(x[None, None])) - torch.from_numpy(y)) ** 2).mean())


def read(path: str) -> np.ndarray:
    from geohazard.engine.io.raster_io import inspect_raster, open_band

    with open_band(inspect_raster(path), 1) as reader:
        return np.asarray(reader.read(), np.float32)


def finetune_toy_gain(
    pair: tuple[str, str], settings: FineTuneSettings, recipe: ToyRecipe, reporter: Any = None
) -> dict[str, Any]:
    from .task import TASK

    return finetune(TASK, plan_toy_gain, pair, settings, recipe, reporter)


def plan_toy_gain(
    base: Any, pair: tuple[str, str], settings: FineTuneSettings, recipe: ToyRecipe, rep: Any
) -> FineTunePlan:
    from .task import toy_card

    x, y = read(pair[0]), read(pair[1])
    per_epoch = recipe.steps_per_epoch

    def card(net: Any, run: Any, metrics: Any) -> Any:
        return toy_card(settings.output_name, net, run.record("geohazard:traintoygain", list(pair)))

    return FineTunePlan(
        ToyHooks(x, y, settings.learning_rate, settings.seed),
        [Stage("train", settings.epochs * per_epoch)],
        per_epoch,
        "mse",
        "validation MSE",
        list(pair),
        lambda net: {
            "model": {"mse": measure(net, x, y)},
            "base_model": {"mse": measure(base.net, x, y)},
        },
        card,
        lambda m: {"base model": m["base_model"]["mse"]},
        f"Fine-tuning {base.card.name} on {pair[0]}.",
        lambda m: f"Saved {settings.output_name}: MSE {m['model']['mse']:.4f}.",
    )
