"""Super-resolution of a DEM raster of any size, in bounded memory, to a GeoTIFF.

Windows of the input are read tile by tile, super-resolved in batches on the chosen device,
blended (see :mod:`.tiling`) into a band buffer one row of tiles high, and the rows that no
later tile touches are written out. Memory is bounded by one row of tiles whatever the raster's
size. Out of memory on the GPU halves the tile size and starts again.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from rasterio.windows import Window
from torch import nn

from ..dem_values import ElevationGuard, unseen
from ..device import resolve_device
from ..errors import GeohazardError
from ..input_checks import dem_valid, require_valid_data
from ..oom import run_with_oom_retry
from ..output_files import check_free_space
from ..progress import Reporter
from ..raster_io import (
    Grid,
    RasterWriter,
    check_output_path,
    inspect_raster,
    open_band,
    planned_raster,
)
from ..run_estimate import announce_time, check_memory, measure_seconds
from .model_store import load_model, resolve_model
from .tile_model import super_resolve_tiles
from .tiling import fit_tile, tile_starts, tile_weight

MIN_INPUT_PX = 4
MIN_TILE = 16


@dataclass(frozen=True)
class SuperResolutionConfig:
    """Options of :func:`super_resolve_dem`.

    Args:
        scale: upsampling factor, 2 or 4; must match the model's.
        model: bundled model name or path to a .safetensors file (card beside it).
        tile_size: tile side in input pixels. Default 256: on the CPU the fastest measured
            (large tiles are memory-bound) and about 0.6 GiB peak at x4; raise it on a GPU.
        overlap: overlap between tiles in input pixels. Default 32.
        batch_size: tiles per forward pass; 0 (default) is 4 on CUDA and 1 on the CPU, where
            batching gains nothing and multiplies the memory of the activations.
        device: auto, cpu, cuda or cuda:N.
    """

    scale: int = 4
    model: str = ""
    tile_size: int = 256
    overlap: int = 32
    batch_size: int = 0
    device: str = "auto"


def default_model(scale: int) -> str:
    return f"dem_sr_x{scale}"


def output_grid(grid: Grid, scale: int) -> Grid:
    """The input grid with pixels divided by ``scale`` (same CRS and extent)."""
    return Grid(
        grid.crs,
        grid.transform * Affine.scale(1.0 / scale),
        grid.width * scale,
        grid.height * scale,
    )


def super_resolve_dem(
    input_path: str,
    output_path: str,
    config: SuperResolutionConfig,
    reporter: Reporter | None = None,
    network: tuple[nn.Module, dict[str, Any]] | None = None,
) -> dict[str, object]:
    """Super-resolve a one-band DEM GeoTIFF; returns a summary (model, device, tiles, ...).

    ``network``: an already loaded ``(net, card)`` pair (e.g. from training) used instead of
    ``config.model``.
    """
    rep = reporter or Reporter()
    cfg = config
    if cfg.scale not in (2, 4):
        raise GeohazardError(f"SCALE must be 2 or 4, not {cfg.scale}.")
    if cfg.tile_size < MIN_TILE:
        raise GeohazardError(
            f"The tile size must be at least {MIN_TILE} pixels, not {cfg.tile_size}."
        )
    if not 0 <= cfg.overlap <= cfg.tile_size // 2:
        raise GeohazardError(
            f"The overlap must be between 0 and half the tile size ({cfg.tile_size // 2}), not {cfg.overlap}."
        )
    check_output_path(output_path)
    if os.path.abspath(output_path) == os.path.abspath(input_path):
        raise GeohazardError("The output would overwrite the input DEM; choose another file name.")
    info = inspect_raster(input_path)
    name = os.path.basename(input_path)
    if info.count != 1:
        raise GeohazardError(f"'{name}' has {info.count} bands; a DEM must have exactly one band.")
    grid = info.grid
    if grid.width < MIN_INPUT_PX or grid.height < MIN_INPUT_PX:
        raise GeohazardError(
            f"'{name}' is only {grid.width}x{grid.height} pixels; at least {MIN_INPUT_PX}x{MIN_INPUT_PX} are needed."
        )
    out_grid = output_grid(grid, cfg.scale)
    # --- issue 14 hooks (output space, memory, valid data) before any compute --------------
    check_free_space([planned_raster(output_path, out_grid, 1)], rep)
    check_memory(
        _row_buffer_bytes(grid, cfg),
        "one row of tiles of the output",
        "use a smaller TILE_SIZE or clip the DEM to the area of interest.",
        rep,
    )
    require_valid_data(info, 1, "DEM", rep, dem_valid)
    guard = ElevationGuard.for_path(input_path)
    # -------------------------------------------------------------------------------------
    if network is None:
        weights = resolve_model(cfg.model or default_model(cfg.scale))
        net, card = load_model(weights)
    else:
        net, card = network
    if int(card.get("scale", 0)) != cfg.scale:
        raise GeohazardError(
            f"The model '{card.get('name', 'given')}' was trained for x{card.get('scale')} "
            f"super-resolution, but SCALE is {cfg.scale}; choose SCALE={card.get('scale')} or a x{cfg.scale} model."
        )
    device = resolve_device(cfg.device, rep)
    net = net.to(device)
    _estimate_time(net, device, grid, cfg, rep)  # issue 14 hook: time from a measured rate
    rep.info(
        f"Super-resolving {grid.width}x{grid.height} -> {out_grid.width}x{out_grid.height} px "
        f"with {card.get('name')} (x{cfg.scale}) on {device}."
    )
    tags = {
        "GEOHAZARD_MODEL": str(card.get("name")),
        "GEOHAZARD_SCALE": str(cfg.scale),
        "UNITS": "metre",
    }
    summary: dict[str, object] = {"model": card.get("name"), "device": str(device)}
    with (
        open_band(info, 1) as reader,
        RasterWriter(output_path, out_grid, ["elevation (m)"], tags=tags) as writer,
    ):

        def run(tile: int) -> int:
            guard.reset()  # a retry with smaller tiles reads every pixel again
            return _run_tiles(reader, writer, net, device, grid, cfg, tile, rep, guard)

        summary["tiles"] = run_with_oom_retry(run, cfg.tile_size, MIN_TILE, rep)
    guard.warn(rep)  # issue 14 hook: how many impossible elevations became nodata
    summary["output"] = output_path
    return summary


def _row_buffer_bytes(grid: Grid, cfg: SuperResolutionConfig) -> int:
    """Bytes of the blending buffers (two float32 rows of tiles of the output) and the block
    written from them; the network's activations per tile come on top (about 0.6 GiB at the
    default tile size on the CPU, measured)."""
    tile_h = min(cfg.tile_size, grid.height)
    return 3 * tile_h * cfg.scale * grid.width * cfg.scale * 4 + 600 * 1024**2


def _estimate_time(
    net: nn.Module, device, grid: Grid, cfg: SuperResolutionConfig, rep: Reporter
) -> None:  # type: ignore[no-untyped-def]
    """Log the expected time from the rate of the network measured just now on one small tile."""
    side = min(64, grid.width, grid.height)
    sample = [np.zeros((side, side), np.float32) + np.linspace(0, 50, side, dtype=np.float32)]
    seconds = measure_seconds(lambda: super_resolve_tiles(net, sample, cfg.scale, device), 1)
    tile = min(cfg.tile_size, max(grid.width, grid.height))
    step = max(1, tile - cfg.overlap)
    tiled_px = math.ceil(grid.width / step) * math.ceil(grid.height / step) * tile * tile
    tiled_px = min(tiled_px, (grid.width + cfg.overlap) * (grid.height + cfg.overlap) * 2)
    announce_time(
        rep,
        seconds / (side * side) * tiled_px,
        f"rate of the network measured just now on a {side} x {side} px tile on {device}",
    )


def _run_tiles(
    reader,
    writer,
    net,
    device,
    grid: Grid,
    cfg: SuperResolutionConfig,
    tile: int,
    rep: Reporter,
    guard: ElevationGuard | None = None,
) -> int:  # type: ignore[no-untyped-def]
    s = cfg.scale
    overlap = min(cfg.overlap, tile // 2)
    tile_h, tile_w = fit_tile(grid.height, tile, overlap), fit_tile(grid.width, tile, overlap)
    rows = tile_starts(grid.height, tile_h, overlap)
    cols = tile_starts(grid.width, tile_w, overlap)
    out_w = grid.width * s
    total, done, any_valid = len(rows) * len(cols), 0, False
    acc = np.zeros((tile_h * s, out_w), np.float32)  # weighted sum for the current band of rows
    wsum = np.zeros_like(acc)
    band_top = 0  # output row of acc[0]
    for i, r0 in enumerate(rows):
        # Shift the band buffer so that it starts at this tile row.
        shift = r0 * s - band_top
        if shift:
            acc = (
                np.concatenate([acc[shift:], np.zeros((shift, out_w), np.float32)])
                if shift < acc.shape[0]
                else np.zeros_like(acc)
            )
            wsum = (
                np.concatenate([wsum[shift:], np.zeros((shift, out_w), np.float32)])
                if shift < wsum.shape[0]
                else np.zeros_like(wsum)
            )
            band_top = r0 * s
        batch = cfg.batch_size or (4 if device.type == "cuda" else 1)
        for b0 in range(0, len(cols), batch):
            rep.check_cancel()
            js = list(range(b0, min(b0 + batch, len(cols))))
            tiles = [reader.read(Window(cols[j], r0, tile_w, tile_h)) for j in js]
            if guard is not None:  # issue 14 hook: impossible elevations -> nodata, counted once
                tiles = [
                    guard.clean(t, (unseen(rows, i, tile_h), unseen(cols, j, tile_w)))
                    for t, j in zip(tiles, js)
                ]
            any_valid = any_valid or any(np.isfinite(t).any() for t in tiles)
            outs = super_resolve_tiles(net, tiles, s, device)
            for j, hr in zip(js, outs):
                w = tile_weight(rows, cols, i, j, tile_h, tile_w, s)
                valid = np.isfinite(hr)
                c0 = cols[j] * s
                acc[:, c0 : c0 + tile_w * s] += np.where(valid, hr, 0.0) * w
                wsum[:, c0 : c0 + tile_w * s] += np.where(valid, w, 0.0)
            done += len(js)
            rep.report(done / total)
        final_rows = (rows[i + 1] * s if i + 1 < len(rows) else grid.height * s) - band_top
        with np.errstate(invalid="ignore", divide="ignore"):
            block = np.where(wsum[:final_rows] > 0, acc[:final_rows] / wsum[:final_rows], np.nan)
        writer.write(block.astype(np.float32), Window(0, band_top, out_w, final_rows))
    if not any_valid:
        raise GeohazardError("The DEM contains no valid elevation (every pixel is nodata).")
    return total
