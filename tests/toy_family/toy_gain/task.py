"""The toy task: a one-band raster in, the network's output on the same grid out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geohazard.engine.models.model_card import BandSet, ModelCard, Normalisation
from geohazard.engine.models.model_task import (
    ModelTask,
    PreparedBatch,
    Tile,
    TileSettings,
    check_bands,
)

from . import FAMILY
from . import arch as _arch  # noqa: F401  (registers ToyGain)

VALUE = BandSet("value", ("value",))
NORMALISATION = Normalisation("none", {})


@dataclass
class ToyGainTask(ModelTask):
    name: str = "toy-gain"
    title: str = "apply the toy gain"
    architectures: tuple[str, ...] = ("ToyGain",)
    tile_size: int = 32
    overlap: int = 4
    min_tile: int = 8

    def check_card(self, card: ModelCard) -> None:
        check_bands(card, [1], 1)

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        keep = [k for k, t in enumerate(tiles) if np.isfinite(t[0]).any()]
        batch = [np.nan_to_num(tiles[k][0]).astype(np.float32) for k in keep]
        return PreparedBatch((np.stack(batch),) if batch else (), keep)

    def restore(
        self, output: np.ndarray, batch: PreparedBatch, tiles: list[Tile], card: ModelCard
    ) -> list[np.ndarray]:
        out = []
        for n, k in enumerate(batch.keep):
            value = output[n].astype(np.float32)
            value[~np.isfinite(tiles[k][0])] = np.nan
            out.append(value)
        return out


TASK = ToyGainTask()


def toy_card(name: str, net: Any, training: dict[str, Any], held_out: Any = None) -> ModelCard:
    return TASK.card(
        name=name,
        description="A 1x1 convolution (tests only).",
        architecture={"type": "ToyGain", "bands": 1},
        inputs=(VALUE,),
        output=VALUE,
        normalisation=NORMALISATION,
        context_px=FAMILY.context_px,
        parameters=sum(p.numel() for p in net.parameters()),
        training=training,
        held_out=held_out,
    )


@dataclass(frozen=True)
class ToyConfig:
    model: str = ""
    tiles: TileSettings = field(default_factory=TASK.tile_settings)

    def validate(self) -> None:
        """Nothing beyond the shared checks."""


def apply_gain(
    input_path: str, output_path: str, config: ToyConfig, options: Any, reporter: Any
) -> dict[str, Any]:
    """Run a toy model over a one-band GeoTIFF: the shared run start, then the tiled runner."""
    from geohazard.engine.models.run_preparation import prepare_run
    from geohazard.engine.models.tiled_runner import RasterInput, run_tiled

    loaded, _ = prepare_run(TASK, config, lambda: None)
    source = RasterInput(input_path, (1,), os.path.basename(input_path))
    return run_tiled(TASK, loaded, [source], output_path, config.tiles, options, reporter, {})
