"""The first pass's NCC surfaces from shared block correlations (engine/offsets/block_ncc.py)
equal a float64 per-window correlation, for every window size at once."""

from __future__ import annotations

import pytest
import torch
from geohazard.engine.offsets.block_ncc import (
    block_range,
    block_size,
    block_surfaces,
    strip_blocks,
)
from geohazard.engine.offsets.ncc import local_tables, ncc_surface
from geohazard.engine.offsets.window_grid import CentreGrid, windows


@pytest.mark.parametrize(
    ("sizes", "step", "search", "want"),
    [
        ((64,), 16, 8, 16),
        ((32, 64, 128), 16, 8, 16),
        ((16, 32), 8, 5, 8),
        ((32, 64), 8, 8, 8),
        ((64,), 16, 20, 0),  # a search wider than the block: one FFT per window
        ((48, 64), 16, 8, 8),  # half-size difference 8
        ((64,), 12, 4, 0),  # block 4: too small to pay
        ((33,), 16, 4, 0),
    ],
)
def test_block_size(sizes, step, search, want) -> None:
    assert block_size(sizes, step, search) == want


@pytest.mark.parametrize(("sizes", "step", "search"), [((64,), 16, 8), ((32, 64), 8, 8)])
def test_block_surfaces_equal_a_float64_correlation_on_a_bright_flat_image(
    sizes, step, search
) -> None:
    """A bright image with faint texture (mean 1000, texture 1, a ramp of 50) is where float32
    correlation loses digits; the block form keeps every term at the texture's size and stays
    closer to float64 than one float32 FFT per window."""
    gen = torch.Generator().manual_seed(3)
    height, width = 300, 420
    ramp = torch.linspace(0, 50, width)[None, :]
    ref = 1000.0 + ramp + torch.rand(height, width, generator=gen)
    sec = torch.roll(ref, (1, -2), (0, 1)) + 0.3 * torch.rand(height, width, generator=gen)
    b = block_size(sizes, step, search)
    assert b
    grid = CentreGrid.for_image(height, width, sizes[0], step, search)
    spans = {
        w: (
            grid.valid_range(grid.rows, grid.first_row, w, height),
            grid.valid_range(grid.cols, grid.first_col, w, width),
        )
        for w in sizes
    }
    blocks, jobs = strip_blocks(
        ref,
        sec,
        local_tables(sec, (), (b,))[1][b],
        grid,
        0,
        b,
        sizes,
        block_range(grid, b, sizes, spans),
    )
    for job in jobs:
        job()
    energies, _ = local_tables(sec, sizes)
    lags = 2 * search + 1
    for w in sizes:
        (i0, i1), (j0, j1) = spans[w]
        ni, nj = i1 - i0, j1 - j0
        top = grid.first_row + i0 * step - w // 2
        left = grid.first_col + j0 * step - w // 2
        e = windows(energies[w], top - search, left - search, lags, step, ni, nj)
        got = block_surfaces(blocks, grid, w, (i0, i1), (j0, j1), e.reshape(-1, lags, lags))
        t = windows(ref, top, left, w, step, ni, nj).reshape(-1, w, w)
        s = windows(sec, top - search, left - search, w + 2 * search, step, ni, nj)
        s = s.reshape(-1, w + 2 * search, w + 2 * search)
        want = ncc_surface(t.double(), s.double())
        per_window = ncc_surface(t, s, e.reshape(-1, lags, lags))  # one float32 FFT per window
        err, err_window = ((x.double() - want).abs().max() for x in (got, per_window))
        assert err < 1e-4
        assert err < err_window
