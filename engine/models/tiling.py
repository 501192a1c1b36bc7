"""Tile layout and blending weights for overlapping-tile inference.

Along an axis, the number of tiles is the fewest that cover the raster with the requested overlap,
the tile is then shrunk to the smallest size that still covers it (so the overlap, and the work
done twice, stays near the minimum) and the tiles are spread evenly; all tiles have the same size
so they batch. Each tile's output is weighted by a ramp that is zero within 3/8 of the overlap
from an inner tile edge (where the zero padding inside the network is still felt: 12 input
pixels for the bundled models at the default overlap of 32), rises linearly across the central
quarter of the overlap, and is one elsewhere and along the raster's own edges; the mosaic is
the weighted mean, so no seam shows.
"""

from __future__ import annotations

import math

import numpy as np

FLOOR_WEIGHT = 1e-6


def fit_tile(length: int, tile: int, overlap: int) -> int:
    """The smallest tile (<= ``tile``) covering ``length`` with as few tiles as ``tile`` needs."""
    if tile >= length:
        return length
    n = math.ceil((length - overlap) / (tile - overlap))
    return min(tile, math.ceil((length - overlap) / n) + overlap)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of equal tiles of ``tile`` px covering ``length`` px with >= ``overlap``."""
    if tile >= length:
        return [0]
    step = tile - overlap
    n = math.ceil((length - overlap) / step)
    n = max(n, 2)
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def _axis_ramp(starts: list[int], index: int, tile: int, scale: int) -> np.ndarray:
    """Weights along one axis of tile ``index``, in output pixels."""
    pos = (np.arange(tile * scale) + 0.5) / scale  # output pixel centres in input pixels
    w = np.ones(tile * scale)
    if index > 0:
        ov = starts[index - 1] + tile - starts[index]
        m = 0.375 * ov
        w = np.minimum(w, np.clip((pos - m) / max(ov - 2 * m, 1e-9), 0.0, 1.0))
    if index < len(starts) - 1:
        ov = starts[index] + tile - starts[index + 1]
        m = 0.375 * ov
        w = np.minimum(w, np.clip((tile - pos - m) / max(ov - 2 * m, 1e-9), 0.0, 1.0))
    return np.maximum(w, FLOOR_WEIGHT)


def tile_weight(
    row_starts: list[int],
    col_starts: list[int],
    i: int,
    j: int,
    tile_h: int,
    tile_w: int,
    scale: int,
) -> np.ndarray:
    """Blending weight (float32, output resolution) of tile (i, j)."""
    return np.outer(
        _axis_ramp(row_starts, i, tile_h, scale), _axis_ramp(col_starts, j, tile_w, scale)
    ).astype(np.float32)
