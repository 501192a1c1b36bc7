"""Shared runner additions for position-dependent tasks: tile windows reach ``restore``; an input
made on purpose on a coarser grid is interpolated without a warning."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import torch
from affine import Affine
from geohazard.engine.core.progress import Reporter
from geohazard.engine.core.run_options import RunOptions
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.archs.registry import register_arch
from geohazard.engine.models.model_card import BandSet, ModelCard, Normalisation
from geohazard.engine.models.model_store import ModelStore
from geohazard.engine.models.model_task import ModelTask, PreparedBatch, Tile, TileSettings
from geohazard.engine.models.tiled_runner import RasterInput, run_tiled, run_untiled
from rasterio.crs import CRS
from torch import nn

SHAPE = (70, 90)
GRID = Grid(CRS.from_epsg(32633), Affine(10, 0, 400000, 0, -10, 5000000), SHAPE[1], SHAPE[0])


@register_arch()
class ToySum(nn.Module):
    """out = a0 + b0 (one band): no context, no weights."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a[:, :1] + b


@dataclass
class WhereTask(ModelTask):
    """Outputs, for every pixel, its row and column in the whole raster (from the window)."""

    name: str = "where"
    title: str = "locate"
    architectures: tuple[str, ...] = ("ToySum",)
    min_tile: int = 8

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        a = np.stack([t[0][:2] for t in tiles])
        return PreparedBatch((a, a[:, :1]), list(range(len(tiles))))

    def restore(self, output, batch, tiles, card):  # type: ignore[no-untyped-def]
        out = []
        for n, w in enumerate(batch.windows):
            rows, cols = np.mgrid[0 : output.shape[2], 0 : output.shape[3]]
            out.append(
                np.stack([rows + w.row_off, cols + w.col_off, output[n, 0]]).astype(np.float32)
            )
        return out


def _card() -> ModelCard:
    return ModelCard(
        name="where",
        task="where",
        description="positions",
        architecture={"type": "ToySum"},
        inputs=(BandSet("a", ("a0", "a1")), BandSet("b", ("b0",))),
        output=BandSet("out", ("row", "col", "sum")),
        normalisation=Normalisation("none"),
        context_px=1,
        tile_size=32,
        overlap=8,
    )


def test_restore_knows_where_each_tile_lies(tmp_path: Path) -> None:
    a = np.random.default_rng(2).normal(0, 1, (2, *SHAPE)).astype(np.float32)
    pa = write_raster(str(tmp_path / "a.tif"), a, GRID, ["a0", "a1"])
    coarse = Grid(GRID.crs, GRID.transform * Affine.scale(5), SHAPE[1] // 5, SHAPE[0] // 5)
    pb = write_raster(str(tmp_path / "b.tif"), np.ones((1, 14, 18), np.float32), coarse, ["b"])
    store = ModelStore(str(tmp_path / "models"))
    store.save(ToySum(), _card())
    task = WhereTask()
    model = store.load(task, "where", "")
    warnings: list[str] = []
    out = str(tmp_path / "out.tif")
    run_tiled(
        task,
        model,
        [RasterInput(pa, (1, 2), "a"), RasterInput(pb, (1,), "coarse", announce=False)],
        out,
        TileSettings(24, 8, 2),
        RunOptions(device="cpu"),
        Reporter(warning=warnings.append),
    )
    with rasterio.open(out) as ds:
        got = ds.read()
    rows, cols = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    np.testing.assert_allclose(got[0], rows, atol=1e-4)
    np.testing.assert_allclose(got[1], cols, atol=1e-4)
    assert warnings == []  # the coarse input was resampled without a warning
    whole = run_untiled(task, model, (a, np.ones((1, *SHAPE), np.float32)))
    np.testing.assert_allclose(whole[0], rows)
