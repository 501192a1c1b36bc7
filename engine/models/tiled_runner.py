"""One tiled runner for every model: N aligned multi-band inputs -> one multi-band output.

The first input's grid is the reference; the others are read on it (resampled with a warning
when they are on another grid, refused when they cannot be related). Tiles of the same size
overlap by at least the requested overlap, are prepared by the task, run in batches on the run's
device (mixed precision when the run's options allow it), restored by the task and blended with
ramps (see :mod:`.tiling`) into a buffer one row of tiles high; rows that no later tile touches
are written at once, so memory is bounded whatever the raster's size. Out of memory halves the
tile size and starts again (the output is a temporary file until the end). Progress and cancel
are checked between batches.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from ..core.device import autocast, run_scope
from ..core.errors import GeohazardError
from ..core.oom import is_out_of_memory, run_with_oom_retry
from ..core.progress import Reporter
from ..core.run_options import RunOptions
from ..io.dem_values import ElevationGuard, impossible_mask, unseen
from ..io.input_checks import any_valid, dem_valid, require_valid_data
from ..io.output_files import check_free_space
from ..io.raster_io import (
    BandReader,
    Grid,
    RasterInfo,
    RasterWriter,
    check_output_path,
    inspect_raster,
    open_bands,
    output_grid,
    planned_raster,
)
from ..io.run_estimate import announce_time, check_memory, measure_seconds
from .model_task import ModelTask, Tile, TileSettings, check_tiles
from .tiling import fit_tile, tile_starts, tile_weight

SAMPLE_TILE = 64  # input pixels per side of the tile timed for the estimate
ACTIVATION_BYTES = 600 * 1024**2  # a 256 px tile through the bundled DEM models (CPU, measured)

if TYPE_CHECKING:
    import torch

    from .model_store import LoadedModel


@dataclass(frozen=True)
class RasterInput:
    """One input raster of a run.

    Args:
        path: the raster file.
        bands: 1-based bands to read, in the order the task wants them (None: all).
        role: how messages name it (``DEM``, ``reference``, ``secondary``, ``SAR``).
        resampling: used when the raster is not on the first input's grid.
        elevations: the raster holds elevations; values no DEM can hold (see
            :mod:`.dem_values`) become nodata and the user is told how many there were.
        announce: say in the log when it is resampled (False for an input the engine made on
            purpose on another grid, e.g. a coarse grid to be interpolated).
    """

    path: str
    bands: tuple[int, ...] | None = None
    role: str = "input"
    resampling: Resampling = Resampling.bilinear
    announce: bool = True
    elevations: bool = False  # a DEM: values no DEM can hold become nodata, counted


def run_batch(
    task: ModelTask,
    model: LoadedModel,
    tiles: list[Tile],
    device: torch.device,
    options: RunOptions,
    windows: list[Window] | None = None,
) -> list[np.ndarray | None]:
    """Prepare, run and restore a batch of equally shaped tiles; None for skipped tiles.

    ``windows`` (where each tile lies in the first input's grid) is handed to the task's
    ``restore`` as ``batch.windows``, for tasks whose units depend on the position.
    """
    import torch

    prepared = task.prepare(tiles, model.card)
    prepared.windows = windows
    out: list[np.ndarray | None] = [None] * len(tiles)
    if not prepared.keep:
        return out
    with torch.no_grad(), autocast(device, options):
        args = [torch.from_numpy(a).to(device) for a in prepared.inputs]
        y = model.net(*args)
    restored = task.restore(y.float().cpu().numpy(), prepared, tiles, model.card)
    for k, arr in zip(prepared.keep, restored):
        out[k] = arr
    return out


def run_untiled(
    task: ModelTask, model: LoadedModel, tile: Tile, options: RunOptions | None = None
) -> np.ndarray:
    """Run one whole array set (no tiling) on the CPU or the options' device; NaN if skipped."""
    opts = options or RunOptions(device="cpu")
    with run_scope(opts) as device:
        model.net.to(device)
        rows, cols = tile[0].shape[-2:]
        (result,) = run_batch(task, model, [tile], device, opts, [Window(0, 0, cols, rows)])
    if result is None:
        rows, cols = tile[0].shape[-2:]
        s = model.card.scale
        return np.full((len(task.output_bands(model.card)), rows * s, cols * s), np.nan, np.float32)
    return result


def run_tiled(
    task: ModelTask,
    model: LoadedModel,
    inputs: list[RasterInput],
    output_path: str,
    settings: TileSettings,
    options: RunOptions,
    reporter: Reporter | None = None,
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``model`` over ``inputs`` tile by tile and write ``output_path`` (GeoTIFF).

    Returns a summary: model, device, tiles, output. Raises :class:`GeohazardError` for bad
    input and :class:`~.errors.Cancelled` on cancel; no partial output is ever left.
    """
    rep = reporter or Reporter()
    check_tiles(settings, task)
    check_output_path(output_path)
    infos = [inspect_raster(i.path) for i in inputs]
    for inp in inputs:
        if os.path.abspath(inp.path) == os.path.abspath(output_path):
            raise GeohazardError(
                f"The output would overwrite the {inp.role} raster; choose another file name."
            )
    grid = infos[0].grid
    card = model.card
    out_grid = output_grid(grid, card.scale)
    summary: dict[str, Any] = {"model": card.name, "output": output_path}
    guards = check_before_compute(inputs, infos, output_path, out_grid, task, card, settings, rep)
    with run_scope(options, rep) as device:
        summary["device"] = str(device)
        model.net.to(device)
        readers = [
            open_bands(
                info,
                inp.bands,
                None if k == 0 else grid,
                rep if inp.announce else None,
                inp.role,
                inp.resampling,
            )
            for k, (info, inp) in enumerate(zip(infos, inputs))
        ]
        try:
            estimate_time(task, model, readers, grid, settings, device, options, rep, guards)
            with RasterWriter(output_path, out_grid, task.output_bands(card), tags=tags) as writer:

                def run(tile: int) -> int:
                    for g in guards:
                        if g is not None:
                            g.reset()  # a retry with smaller tiles reads every pixel again
                    return _run_tiles(
                        task,
                        model,
                        readers,
                        writer,
                        grid,
                        settings,
                        tile,
                        device,
                        options,
                        rep,
                        guards,
                    )

                summary["tiles"] = run_with_oom_retry(run, settings.tile_size, task.min_tile, rep)
        finally:
            for r in readers:
                r.close()
    for g in guards:
        if g is not None:
            g.warn(rep)
    return summary


# --- what a run will need, said and checked before it computes ---------------------------------


def check_before_compute(
    inputs: list[RasterInput],
    infos: list[RasterInfo],
    output_path: str,
    out_grid: Grid,
    task: ModelTask,
    card: Any,
    settings: TileSettings,
    rep: Reporter,
) -> list[ElevationGuard | None]:
    """Refuse, before any compute, an output that cannot fit on the disk, a row of tiles that
    cannot fit in memory, and inputs without a valid pixel; returns one elevation guard per
    input (None where the input is not a DEM)."""
    nb = len(task.output_bands(card))
    check_free_space([planned_raster(output_path, out_grid, nb)], rep)
    tile_h = min(settings.tile_size, infos[0].grid.height)
    check_memory(
        3 * nb * tile_h * card.scale * out_grid.width * 4 + ACTIVATION_BYTES,
        "one row of tiles of the output",
        "use a smaller TILE_SIZE, or clip the inputs to the area of interest.",
        rep,
    )
    for info, inp in zip(infos, inputs):
        if not inp.announce:
            continue  # made by the engine on purpose (e.g. a prior), not the user's input
        for band in inp.bands or range(1, info.count + 1):
            require_valid_data(
                info, band, inp.role, rep, dem_valid if inp.elevations else any_valid
            )
    return [ElevationGuard.for_path(inp.path) if inp.elevations else None for inp in inputs]


def estimate_time(
    task: ModelTask,
    model: LoadedModel,
    readers: list[BandReader],
    grid: Grid,
    settings: TileSettings,
    device: torch.device,
    options: RunOptions,
    rep: Reporter,
    guards: list[ElevationGuard | None] | None = None,
) -> None:
    """Log the expected compute time from the rate of the model measured just now on one small
    tile of the inputs (the centre of the raster) on the run's device."""
    side = min(SAMPLE_TILE, grid.width, grid.height)
    window = Window((grid.width - side) // 2, (grid.height - side) // 2, side, side)
    sample = _read_tile(readers, window)
    for a, g in zip(sample, guards or []):
        if g is not None:
            a[impossible_mask(a)] = np.nan  # as in the run, without counting
    if task.prepare([sample], model.card).keep == []:  # nodata there: a ramp of the same shape
        ramp = np.linspace(1.0, 100.0, side * side, dtype=np.float32).reshape(side, side)
        sample = tuple(np.broadcast_to(ramp, a.shape).copy() for a in sample)
    try:
        seconds = measure_seconds(
            lambda: run_batch(task, model, [sample], device, options, [window]), 1
        )
    except Exception as exc:  # noqa: BLE001 (an estimate must never stop a run)
        if not is_out_of_memory(exc):
            raise
        rep.info("Estimated compute time: unknown (a sample tile did not fit in memory).")
        return
    tile = min(settings.tile_size, max(grid.width, grid.height))
    step = max(1, tile - settings.overlap)
    pixels = math.ceil(grid.width / step) * math.ceil(grid.height / step) * tile * tile
    pixels = min(pixels, (grid.width + settings.overlap) * (grid.height + settings.overlap) * 2)
    announce_time(
        rep,
        seconds / (side * side) * pixels,
        f"rate of the model measured just now on a {side} x {side} px tile on {device}",
    )


def _read_tile(readers: list[BandReader], window: Window) -> Tile:
    arrays = []
    for r in readers:
        a = r.read(window)
        arrays.append(a if a.ndim == 3 else a[None])
    return tuple(arrays)


def _run_tiles(
    task: ModelTask,
    model: LoadedModel,
    readers: list[BandReader],
    writer: RasterWriter,
    grid: Grid,
    settings: TileSettings,
    tile: int,
    device: torch.device,
    options: RunOptions,
    rep: Reporter,
    guards: list[ElevationGuard | None] | None = None,
) -> int:
    s = model.card.scale
    nb = len(writer.descriptions)
    overlap = min(settings.overlap, tile // 2)
    tile_h, tile_w = fit_tile(grid.height, tile, overlap), fit_tile(grid.width, tile, overlap)
    rows = tile_starts(grid.height, tile_h, overlap)
    cols = tile_starts(grid.width, tile_w, overlap)
    out_w = grid.width * s
    total, done, any_valid = len(rows) * len(cols), 0, False
    batch = settings.batch_size or (task.batch_gpu if device.type == "cuda" else task.batch_cpu)
    acc = np.zeros((nb, tile_h * s, out_w), np.float32)  # weighted sums, current row of tiles
    wsum = np.zeros_like(acc)
    band_top = 0  # output row of acc[:, 0]
    for i, r0 in enumerate(rows):
        shift = r0 * s - band_top
        if shift:
            acc, wsum = _shift(acc, shift), _shift(wsum, shift)
            band_top = r0 * s
        for b0 in range(0, len(cols), batch):
            rep.check_cancel()
            js = list(range(b0, min(b0 + batch, len(cols))))
            windows = [Window(cols[j], r0, tile_w, tile_h) for j in js]
            tiles = [_read_tile(readers, w) for w in windows]
            if guards and any(
                g is not None for g in guards
            ):  # impossible values counted once per pixel
                counted = [
                    (slice(None), unseen(rows, i, tile_h), unseen(cols, j, tile_w)) for j in js
                ]
                tiles = [
                    tuple(a if g is None else g.clean(a, c) for a, g in zip(t, guards))
                    for t, c in zip(tiles, counted)
                ]
            for j, out in zip(js, run_batch(task, model, tiles, device, options, windows)):
                if out is None:
                    continue
                w = tile_weight(rows, cols, i, j, tile_h, tile_w, s)
                valid = np.isfinite(out)
                any_valid = any_valid or bool(valid.any())
                c0 = cols[j] * s
                acc[:, :, c0 : c0 + tile_w * s] += np.where(valid, out, 0.0) * w
                wsum[:, :, c0 : c0 + tile_w * s] += np.where(valid, w, 0.0)
            done += len(js)
            rep.report(done / total)
        final_rows = (rows[i + 1] * s if i + 1 < len(rows) else grid.height * s) - band_top
        with np.errstate(invalid="ignore", divide="ignore"):
            block = np.where(
                wsum[:, :final_rows] > 0, acc[:, :final_rows] / wsum[:, :final_rows], np.nan
            )
        writer.write(block.astype(np.float32), Window(0, band_top, out_w, final_rows))
    if not any_valid:
        raise GeohazardError(
            f"The input holds no valid pixel (every pixel is nodata); nothing to {task.title}."
        )
    return total


def _shift(buf: np.ndarray, shift: int) -> np.ndarray:
    """Move a row buffer up by ``shift`` rows, zero-filling below."""
    if shift >= buf.shape[1]:
        return np.zeros_like(buf)
    pad = np.zeros((buf.shape[0], shift, buf.shape[2]), buf.dtype)
    return np.concatenate([buf[:, shift:], pad], axis=1)
