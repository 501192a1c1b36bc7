"""Running a super-resolution network on low-resolution tiles given in metres.

A tile's nodata (NaN) pixels are filled from their nearest valid neighbour before the network
sees them (so holes do not drag nearby elevations towards zero), the tile is normalised with
:class:`~.normalise.TileNorm`, and every output pixel whose low-resolution parent was nodata is
set back to NaN.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from ..device import autocast
from .normalise import TileNorm


def fill_nodata(tile: np.ndarray) -> np.ndarray:
    """Copy of ``tile`` with each NaN replaced by its nearest finite value (tile must have one)."""
    invalid = ~np.isfinite(tile)
    if not invalid.any():
        return tile
    idx = ndimage.distance_transform_edt(invalid, return_distances=False, return_indices=True)
    return tile[tuple(idx)]


@torch.no_grad()
def super_resolve_tiles(
    net: nn.Module, tiles: list[np.ndarray], scale: int, device: torch.device | None = None
) -> list[np.ndarray]:
    """Super-resolve equally shaped LR tiles (metres, NaN = nodata) as one batch.

    Returns float32 HR tiles in metres; a tile with no valid pixel comes back all NaN.
    """
    dev = device or torch.device("cpu")
    rows, cols = tiles[0].shape
    out: list[np.ndarray | None] = [None] * len(tiles)
    batch, norms, where = [], [], []
    for i, tile in enumerate(tiles):
        if not np.isfinite(tile).any():
            out[i] = np.full((rows * scale, cols * scale), np.nan, dtype=np.float32)
            continue
        norm = TileNorm.of(tile)
        batch.append(norm.forward(fill_nodata(tile)))
        norms.append(norm)
        where.append(i)
    if batch:
        x = torch.from_numpy(np.stack(batch)[:, None]).to(dev)
        with autocast(dev):
            y = net(x)
        y_np = y.float().cpu().numpy()[:, 0]
        for k, i in enumerate(where):
            hr = norms[k].inverse(y_np[k])
            invalid = ~np.isfinite(tiles[i])
            if invalid.any():
                hr[np.repeat(np.repeat(invalid, scale, 0), scale, 1)] = np.nan
            out[i] = hr
    return [o for o in out if o is not None]


def super_resolve_array(
    net: nn.Module, lr: np.ndarray, scale: int, device: torch.device | None = None
) -> np.ndarray:
    """Super-resolve a whole LR array in one pass (no tiling)."""
    return super_resolve_tiles(net, [lr], scale, device)[0]
