"""Tile layout and blending weights for overlapping-tile inference.

Tiles along an axis are spread evenly so that every overlap is at least the requested one and
all tiles have the same size (so they batch). Each tile's output is weighted by a ramp that is
zero within ``overlap // 4`` input pixels of an inner tile edge (where zero padding inside the
network is felt), rises linearly across the rest of the overlap, and is one elsewhere and along
the raster's own edges; the mosaic is the weighted mean, so no seam shows.
"""

from __future__ import annotations

import math

import numpy as np

FLOOR_WEIGHT = 1e-6


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
        m = ov / 4.0
        w = np.minimum(w, np.clip((pos - m) / max(ov - 2 * m, 1e-9), 0.0, 1.0))
    if index < len(starts) - 1:
        ov = starts[index] + tile - starts[index + 1]
        m = ov / 4.0
        w = np.minimum(w, np.clip((tile - pos - m) / max(ov - 2 * m, 1e-9), 0.0, 1.0))
    return np.maximum(w, FLOOR_WEIGHT)


def tile_weight(
    row_starts: list[int], col_starts: list[int], i: int, j: int, tile_h: int, tile_w: int, scale: int
) -> np.ndarray:
    """Blending weight (float64, output resolution) of tile (i, j)."""
    return np.outer(_axis_ramp(row_starts, i, tile_h, scale), _axis_ramp(col_starts, j, tile_w, scale))
