"""What every model task provides to the shared store, tiled runner and training loop.

A task file subclasses :class:`ModelTask` and says which architectures it runs, how a card is
checked beyond the shared rules, and how a batch of tiles is prepared for the network and its
output restored to physical units. No torch import here or in a task's module scope: algorithms
read a task's defaults to build their parameters, and that must stay fast without torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.errors import GeohazardError
from .model_card import ModelCard

Tile = tuple[np.ndarray, ...]
"""One tile: an array (bands, rows, cols) per input raster, float32, NaN for nodata."""


@dataclass
class PreparedBatch:
    """Network inputs for a batch of tiles, and what restoring them needs.

    Args:
        inputs: one float32 array (batch, channels, rows, cols) per network argument.
        keep: index in the batch of each tile that was prepared; the others (e.g. all
            nodata) come back as nodata without running the network.
        state: whatever :meth:`ModelTask.restore` needs (normalisation, masks).
        windows: where each tile of the batch lies in the first input's grid (rasterio
            ``Window``s), set by the runner before ``restore``; None outside the runner.
    """

    inputs: tuple[np.ndarray, ...]
    keep: list[int]
    state: Any = None
    windows: list[Any] | None = None


@dataclass(frozen=True)
class TileSettings:
    """Tile side and overlap in input pixels; batch 0 takes the task's CPU or GPU default."""

    tile_size: int
    overlap: int
    batch_size: int = 0

    def card_fields(self) -> dict[str, int]:
        """The tile size and overlap a card records as its defaults."""
        return {"tile_size": self.tile_size, "overlap": self.overlap}


def check_tiles(settings: TileSettings, task: ModelTask) -> None:
    """Refuse tiles the task cannot run: smaller than its minimum, overlap beyond half a tile."""
    if settings.tile_size < task.min_tile:
        raise GeohazardError(
            f"The tile size must be at least {task.min_tile} pixels, not {settings.tile_size}."
        )
    if not 0 <= settings.overlap <= settings.tile_size // 2:
        raise GeohazardError(
            f"The overlap must be between 0 and half the tile size ({settings.tile_size // 2}), "
            f"not {settings.overlap}."
        )
    if settings.batch_size < 0:
        raise GeohazardError(
            f"The batch size must be 0 (automatic) or more, not {settings.batch_size}."
        )


@dataclass
class ModelTask:
    """A model task: the rules and tile functions of one model family (subclass it).

    Attributes:
        name: task id written in model cards.
        title: what the task does, for messages.
        architectures: registered architecture names this task can run.
        tile_size: default tile side (input pixels) offered by the algorithm.
        overlap: default tile overlap (input pixels).
        min_tile: smallest tile the out-of-memory retry goes down to.
        batch_cpu: tiles per forward pass on the CPU (batching gains little there).
        batch_gpu: tiles per forward pass on a GPU.
    """

    name: str = ""
    title: str = ""
    architectures: tuple[str, ...] = ()
    tile_size: int = 256
    overlap: int = 32
    min_tile: int = 16
    batch_cpu: int = 1
    batch_gpu: int = 4

    def tile_settings(self) -> TileSettings:
        """The task's default tiles (its tile size and overlap, automatic batch)."""
        return TileSettings(self.tile_size, self.overlap)

    def card(self, **fields: Any) -> ModelCard:
        """A card of this task: the task's name and default tiles filled in, ``fields`` the rest
        (every family builds its cards through this, so the shared keys are written once)."""
        return ModelCard(**{"task": self.name, **self.tile_settings().card_fields(), **fields})

    def default_model(self, options: Any = None) -> str:
        """The bundled model that ``default`` means for these options: an object with the
        family's fields (its inference config or its fine-tuning recipe, e.g. ``scale``);
        ``""`` for a family without a bundled model (then a model must be named)."""
        return ""

    def check_card(self, card: ModelCard) -> None:
        """Task rules on a card beyond the shared ones (e.g. the scale agrees with the network)."""

    def output_bands(self, card: ModelCard) -> list[str]:
        """Band descriptions of the output raster."""
        return list(card.output.bands)

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        """Scale a batch of tiles for the network (subclasses implement)."""
        raise GeohazardError(f"The task {self.name} cannot prepare tiles.")

    def restore(
        self, output: np.ndarray, batch: PreparedBatch, tiles: list[Tile], card: ModelCard
    ) -> list[np.ndarray]:
        """Network output (batch, bands, rows*s, cols*s) back to physical units, one array
        (bands, rows*s, cols*s) per prepared tile, NaN where the output is not valid."""
        raise GeohazardError(f"The task {self.name} cannot restore tiles.")


def check_bands(card: ModelCard, inputs: list[int], outputs: int) -> None:
    """Refuse a card whose inputs or output do not have the band counts the task feeds."""
    counts = [len(b.bands) for b in card.inputs]
    if counts != inputs:
        raise GeohazardError(
            f"The model card '{card.name}' describes inputs with {counts} bands; this task feeds "
            f"{inputs}."
        )
    if len(card.output.bands) != outputs:
        raise GeohazardError(
            f"The model card '{card.name}' describes {len(card.output.bands)} output bands; "
            f"this task writes {outputs}."
        )
