"""The correlation jobs of one window size over one prepared strip.

Each job correlates at most ``chunk`` windows (a block of centre rows, or a block of columns of
one row when a row alone holds more windows than that), so its memory is bounded whatever the
raster's width, and the jobs of a strip keep every worker busy.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

import numpy as np
import torch

from .block_ncc import StripBlocks, block_surfaces
from .ncc import ncc_offsets, peak_offsets
from .pixel_offsets import PixelOffsets
from .strip_preparation import PreparedStrip
from .window_grid import CentreGrid, windows

MAX_NODATA_FRACTION = 0.05


def _bad_fraction(
    bad: torch.Tensor | None, top: int, left: int, size: int, step: int, ni: int, nj: int
) -> torch.Tensor | None:
    """Fraction of nodata pixels in each window, None when the strip has no nodata."""
    if bad is None or not bool(bad.any()):
        return None
    return windows(bad, top, left, size, step, ni, nj).mean(dim=(2, 3))


def job_blocks(ni: int, nj: int, chunk: int) -> list[tuple[int, int, int, int]]:
    """(row a, row b, column c, column d) blocks of at most ``chunk`` windows covering ni x nj:
    whole rows when a row fits, otherwise each row split into equal column blocks."""
    if nj <= chunk:
        rows = max(1, chunk // nj)
        return [(a, min(ni, a + rows), 0, nj) for a in range(0, ni, rows)]
    pieces = math.ceil(nj / chunk)
    width = math.ceil(nj / pieces)
    return [(a, a + 1, c, min(nj, c + width)) for a in range(ni) for c in range(0, nj, width)]


def strip_jobs(
    strip: PreparedStrip,
    rows: tuple[int, int],
    grid: CentreGrid,
    size: int,
    cols: tuple[int, int],
    chunk: int,
    out: PixelOffsets,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
    blocks: StripBlocks | None = None,
) -> list[Callable[[], int]]:
    """Jobs correlating one window size for centre rows [rows) and columns [cols) of a strip.

    Each job writes its block of ``out`` and returns the number of windows it did.
    ``prior``: whole-pixel (rows, columns) shifts on the centre grid; each search area is moved
    by its window's shift (kept inside the strip) and the shift is added to the offset found.
    ``blocks``: the strip's block correlations (block_ncc.py), which replace the per-window
    FFTs (not with a prior, whose shifts differ from window to window).
    """
    (i0, i1), (j0, j1) = rows, cols
    if i1 <= i0 or j1 <= j0:
        return []
    h, s, step = size // 2, grid.search, grid.step
    r_first = grid.first_row + i0 * step - strip.top
    c_first = grid.first_col + j0 * step
    ni, nj = i1 - i0, j1 - j0
    ref_f, sec_f, sec_bad = strip.ref, strip.sec, strip.sec_bad
    energy = strip.energy[size]
    t_view = windows(ref_f, r_first - h, c_first - h, size, step, ni, nj)
    s_view = windows(sec_f, r_first - h - s, c_first - h - s, size + 2 * s, step, ni, nj)
    t_bad = _bad_fraction(strip.ref_bad, r_first - h, c_first - h, size, step, ni, nj)
    s_bad = _bad_fraction(sec_bad, r_first - h - s, c_first - h - s, size + 2 * s, step, ni, nj)
    e_view = windows(energy, r_first - h - s, c_first - h - s, 2 * s + 1, step, ni, nj)
    span = size + 2 * s

    def shifted(a: int, b: int, c: int, d: int) -> tuple[torch.Tensor, ...]:
        """Search areas, energies and nodata shares moved by the prior, with the shifts used."""
        if prior is None:
            raise ValueError("shifted windows need a prior")
        py = torch.from_numpy(prior[0][i0 + a : i0 + b, j0 + c : j0 + d]).to(sec_f.device).long()
        px = torch.from_numpy(prior[1][i0 + a : i0 + b, j0 + c : j0 + d]).to(sec_f.device).long()
        base_r = (r_first - h - s + torch.arange(a, b, device=py.device) * step)[:, None]
        base_c = (c_first - h - s + torch.arange(c, d, device=py.device) * step)[None, :]
        want_r, want_c = (base_r + py).reshape(-1), (base_c + px).reshape(-1)
        tops = want_r.clamp(0, sec_f.shape[0] - span)
        lefts = want_c.clamp(0, sec_f.shape[1] - span)
        used_y = tops - base_r.expand(b - a, d - c).reshape(-1)
        used_x = lefts - base_c.expand(b - a, d - c).reshape(-1)
        ar = torch.arange(span, device=py.device)
        rr, cc = tops[:, None, None] + ar[None, :, None], lefts[:, None, None] + ar[None, None, :]
        lag = torch.arange(2 * s + 1, device=py.device)
        er = tops[:, None, None] + lag[None, :, None]
        ec = lefts[:, None, None] + lag[None, None, :]
        # a search area the prior moves off the image has no data there: the window is dropped
        inside = (tops == want_r) & (lefts == want_c)
        share = (
            sec_bad[rr, cc].mean(dim=(1, 2))
            if sec_bad is not None
            else torch.zeros_like(tops, dtype=sec_f.dtype)
        )
        bad = torch.where(inside, share, torch.ones_like(tops, dtype=sec_f.dtype))
        return sec_f[rr, cc], energy[er, ec], bad, used_y, used_x

    def job(a: int, b: int, c: int, d: int) -> int:
        n = (b - a) * (d - c)
        sec_share: torch.Tensor | None
        if prior is None:
            energies = e_view[a:b, c:d].reshape(-1, 2 * s + 1, 2 * s + 1)
            sec_share = s_bad[a:b, c:d].reshape(-1) if s_bad is not None else None
            if blocks is not None:
                span_r, span_c = (i0 + a, i0 + b), (j0 + c, j0 + d)
                surface = block_surfaces(blocks, grid, size, span_r, span_c, energies)
                res = peak_offsets(surface, size)
            else:
                search_areas = s_view[a:b, c:d].reshape(-1, span, span)
                t = t_view[a:b, c:d].reshape(-1, size, size)
                res = ncc_offsets(t, search_areas, energies)
        else:
            search_areas, energies, sec_share, used_y, used_x = shifted(a, b, c, d)
            res = ncc_offsets(t_view[a:b, c:d].reshape(-1, size, size), search_areas, energies)
        if prior is not None:
            res.dy = res.dy + used_y.to(res.dy.dtype)
            res.dx = res.dx + used_x.to(res.dx.dtype)
        ok = res.valid
        if t_bad is not None:
            ok = ok & (t_bad[a:b, c:d].reshape(-1) <= MAX_NODATA_FRACTION)
        if sec_share is not None:
            ok = ok & (sec_share <= MAX_NODATA_FRACTION)
        nan = torch.full_like(res.dy, float("nan"))
        block = (slice(i0 + a, i0 + b), slice(j0 + c, j0 + d))
        shape = (b - a, d - c)
        out.dy[size][block] = torch.where(ok, res.dy, nan).reshape(shape).cpu().numpy()
        out.dx[size][block] = torch.where(ok, res.dx, nan).reshape(shape).cpu().numpy()
        out.quality[size][block] = torch.where(ok, res.peak, nan).reshape(shape).cpu().numpy()
        if res.sigma_y is not None and res.sigma_x is not None:
            out.sigma_y[size][block] = res.sigma_y.reshape(shape).cpu().numpy()
            out.sigma_x[size][block] = res.sigma_x.reshape(shape).cpu().numpy()
        return n

    return [partial(job, *block) for block in job_blocks(ni, nj, chunk)]
