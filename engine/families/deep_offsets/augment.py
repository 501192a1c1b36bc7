"""Flips and 90-degree rotations of a training sample that keep the displacement truth true.

The eight symmetries of the square (the dihedral group D4) are coded 0-7: bit 4 transposes
(rows <-> columns), then bit 1 flips the rows (up <-> down), bit 2 flips the columns (left <->
right). Displacement vectors follow the image: a transpose swaps dx and dy, a row flip negates dy,
a column flip negates dx. The offsets are then exactly those of the transformed pair, because the
simulator's warp commutes with these symmetries (tests/test_deep_offsets_sim.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

A = TypeVar("A", np.ndarray, torch.Tensor)

TRANSPOSE, FLIP_ROWS, FLIP_COLS = 4, 1, 2


def _flip(x: A, axis: int) -> A:
    if isinstance(x, torch.Tensor):
        return torch.flip(x, dims=(axis,))
    return np.flip(x, axis=axis)


def _swap_last(x: A) -> A:
    if isinstance(x, torch.Tensor):
        return x.transpose(-1, -2)
    return np.swapaxes(x, -1, -2)


def dihedral(x: A, k: int, vector_pairs: Sequence[tuple[int, int]] = ()) -> A:
    """Symmetry ``k`` (0-7) of a (..., C, H, W) or (H, W) array; ``vector_pairs`` lists the
    (dx channel, dy channel) index pairs of the channel axis (-3) that are displacements."""
    if not 0 <= k <= 7:
        raise ValueError(f"symmetry code must be 0-7, got {k}")
    out = x
    if k & TRANSPOSE:
        out = _swap_last(out)
    if k & FLIP_ROWS:
        out = _flip(out, -2)
    if k & FLIP_COLS:
        out = _flip(out, -1)
    if not vector_pairs:
        return out.copy() if isinstance(out, np.ndarray) else out.contiguous()
    out = out.copy() if isinstance(out, np.ndarray) else out.clone()
    for ix, iy in vector_pairs:
        dx, dy = out[..., ix, :, :], out[..., iy, :, :]
        if k & TRANSPOSE:
            dx, dy = dy, dx
        if k & FLIP_COLS:
            dx = -dx
        if k & FLIP_ROWS:
            dy = -dy
        new_dx = dx.copy() if isinstance(dx, np.ndarray) else dx.clone()
        new_dy = dy.copy() if isinstance(dy, np.ndarray) else dy.clone()
        out[..., ix, :, :], out[..., iy, :, :] = new_dx, new_dy
    return out


def inverse(k: int) -> int:
    """The code of the inverse symmetry (undoes ``k``)."""
    if k & TRANSPOSE:
        # flips applied after a transpose are undone by the swapped flips before it
        return TRANSPOSE | ((k & FLIP_ROWS) << 1) | ((k & FLIP_COLS) >> 1)
    return k
