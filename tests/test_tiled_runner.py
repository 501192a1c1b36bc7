"""The shared tiled runner on a toy two-input multi-band model with a known answer: tiled equals
untiled, the output may be an integer multiple of the input grid, cancel and out-of-memory retry,
and two runs at the same time keep their own options."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
import torch.nn.functional as F
from affine import Affine
from geohazard.engine.core.errors import Cancelled
from geohazard.engine.core.progress import Reporter
from geohazard.engine.core.run_options import RunOptions
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.models.archs.registry import register_arch
from geohazard.engine.models.model_card import BandSet, ModelCard, Normalisation
from geohazard.engine.models.model_store import LoadedModel, ModelStore
from geohazard.engine.models.model_task import (
    ModelTask,
    PreparedBatch,
    Tile,
    TileSettings,
    check_bands,
)
from geohazard.engine.models.tiled_runner import RasterInput, run_tiled, run_untiled
from rasterio.crs import CRS
from torch import nn

SHAPE = (70, 90)


@register_arch(bounds={"scale": (1, 4)})
class ToyTwoInput(nn.Module):
    """out0 = a0 + b0, out1 = 3x3 mean of a1 (context 1 px), out2 = a0 * b0, upsampled by
    ``scale`` (nearest): a known answer for every pixel."""

    def __init__(self, scale: int = 1) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("box", torch.full((1, 1, 3, 3), 1.0 / 9.0))
        self.seen_threads: list[int] = []

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        self.seen_threads.append(torch.get_num_threads())
        mean = F.conv2d(F.pad(a[:, 1:2], (1, 1, 1, 1), mode="replicate"), self.box)
        out = torch.cat([a[:, :1] + b, mean, a[:, :1] * b], 1)
        return (
            F.interpolate(out, scale_factor=self.scale, mode="nearest") if self.scale > 1 else out
        )


@dataclass
class ToyTask(ModelTask):
    name: str = "toy"
    title: str = "add"
    architectures: tuple[str, ...] = ("ToyTwoInput",)
    min_tile: int = 8

    def check_card(self, card: ModelCard) -> None:
        check_bands(card, [2, 1], 3)

    def prepare(self, tiles: list[Tile], card: ModelCard) -> PreparedBatch:
        keep = [k for k, t in enumerate(tiles) if np.isfinite(t[0]).any()]
        a = np.stack([tiles[k][0] for k in keep]) if keep else None
        b = np.stack([tiles[k][1] for k in keep]) if keep else None
        return PreparedBatch((a, b) if keep else (), keep)

    def restore(self, output, batch, tiles, card):  # type: ignore[no-untyped-def]
        return [output[n] for n in range(len(batch.keep))]


TASK = ToyTask()


def _card(scale: int) -> ModelCard:
    return ModelCard(
        name=f"toy_x{scale}",
        task="toy",
        description="toy",
        architecture={"type": "ToyTwoInput", "scale": scale},
        inputs=(BandSet("a", ("a0", "a1")), BandSet("b", ("b0",))),
        output=BandSet("out", ("sum", "mean", "product")),
        normalisation=Normalisation("none"),
        context_px=1,
        tile_size=32,
        overlap=8,
        scale=scale,
    )


def _inputs(tmp_path: Path) -> tuple[list[RasterInput], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    a = rng.normal(100, 10, (2, *SHAPE)).astype(np.float32)
    b = rng.normal(0, 1, (1, *SHAPE)).astype(np.float32)
    grid = Grid(CRS.from_epsg(32633), Affine(10, 0, 400000, 0, -10, 5000000), SHAPE[1], SHAPE[0])
    pa = write_raster(str(tmp_path / "a.tif"), a, grid, ["a0", "a1"])
    pb = write_raster(str(tmp_path / "b.tif"), b, grid, ["b0"])
    return [RasterInput(pa, (1, 2), "a"), RasterInput(pb, (1,), "b")], a, b


def _load(tmp_path: Path, scale: int) -> LoadedModel:
    store = ModelStore(str(tmp_path / "models"))
    store.save(ToyTwoInput(scale), _card(scale))
    return store.load(TASK, f"toy_x{scale}", "")


def _known(a: np.ndarray, b: np.ndarray, scale: int) -> np.ndarray:
    ta = torch.from_numpy(a)[None]
    mean = F.conv2d(
        F.pad(ta[:, 1:2], (1, 1, 1, 1), mode="replicate"), torch.full((1, 1, 3, 3), 1 / 9)
    )
    out = np.concatenate([a[:1] + b, mean[0].numpy(), a[:1] * b])
    return np.repeat(np.repeat(out, scale, 1), scale, 2)


def _read(path: str) -> np.ndarray:
    with rasterio.open(path) as ds:
        assert [ds.descriptions[i] for i in range(3)] == ["sum", "mean", "product"]
        return ds.read()


@pytest.mark.parametrize("scale", [1, 2])
def test_known_answer_tiled_equals_untiled(tmp_path: Path, scale: int) -> None:
    inputs, a, b = _inputs(tmp_path)
    model = _load(tmp_path, scale)
    out = str(tmp_path / "out.tif")
    summary = run_tiled(TASK, model, inputs, out, TileSettings(24, 8, 3), RunOptions(device="cpu"))
    assert summary["tiles"] > 4
    tiled = _read(out)
    assert tiled.shape == (3, SHAPE[0] * scale, SHAPE[1] * scale)
    np.testing.assert_allclose(tiled, _known(a, b, scale), rtol=1e-6, atol=1e-4)
    untiled = run_untiled(TASK, model, (a, b))
    np.testing.assert_allclose(tiled, untiled, rtol=1e-6, atol=1e-4)
    with rasterio.open(out) as ds:
        assert ds.transform.a == pytest.approx(10 / scale) and ds.crs == CRS.from_epsg(32633)


def test_cancel_leaves_nothing(tmp_path: Path) -> None:
    inputs, _a, _b = _inputs(tmp_path)
    model = _load(tmp_path, 1)
    reports: list[float] = []
    rep = Reporter(progress=reports.append, is_canceled=lambda: len(reports) >= 2)
    with pytest.raises(Cancelled):
        run_tiled(
            TASK,
            model,
            inputs,
            str(tmp_path / "o.tif"),
            TileSettings(16, 4),
            RunOptions("cpu"),
            rep,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif", "b.tif", "models"]


class _SmallGpu(nn.Module):
    """Runs out of memory on tiles over 24 px, as a small GPU would (torch's message)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if a.shape[-1] > 24:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.net(a, b)


def test_out_of_memory_retries_with_smaller_tiles(tmp_path: Path) -> None:
    inputs, a, b = _inputs(tmp_path)
    model = _load(tmp_path, 1)
    small = LoadedModel(_SmallGpu(model.net), model.card, model.path)
    warnings: list[str] = []
    out = str(tmp_path / "o.tif")
    run_tiled(
        TASK,
        small,
        inputs,
        out,
        TileSettings(64, 8),
        RunOptions("cpu"),
        Reporter(warning=warnings.append),
    )
    assert warnings == [
        "Out of memory with tile size 64; retrying with 32.",
        "Out of memory with tile size 32; retrying with 16.",
    ]
    np.testing.assert_allclose(_read(out), _known(a, b, 1), rtol=1e-6, atol=1e-4)


def test_two_runs_at_the_same_time_keep_their_own_options(tmp_path: Path) -> None:
    inputs, _a, _b = _inputs(tmp_path)
    barrier = threading.Barrier(2, timeout=60)
    seen: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    class Meeting(nn.Module):
        """Both runs meet inside their first forward pass, so they truly overlap."""

        def __init__(self, net: nn.Module) -> None:
            super().__init__()
            self.net, self.met = net, False

        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            if not self.met:
                barrier.wait()
                self.met = True
            return self.net(a, b)

    def run(threads: int) -> None:
        try:
            model = _load(tmp_path / f"m{threads}", 1)
            meeting = LoadedModel(Meeting(model.net), model.card, model.path)
            out = str(tmp_path / f"o{threads}.tif")
            options = RunOptions(device="cpu", threads=threads)
            run_tiled(TASK, meeting, inputs, out, TileSettings(24, 8), options)
            seen[threads] = model.net.seen_threads
        except BaseException as exc:  # noqa: BLE001 (re-raised in the test thread)
            errors.append(exc)

    before = torch.get_num_threads()
    workers = [threading.Thread(target=run, args=(n,)) for n in (1, 3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    assert set(seen[1]) == {1} and set(seen[3]) == {3}
    assert torch.get_num_threads() == before  # the caller's setting is untouched
