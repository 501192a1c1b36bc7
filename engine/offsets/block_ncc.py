"""The first pass's NCC surfaces from correlations of small blocks shared by the windows.

With a step smaller than the window, neighbouring windows overlap (a 64 px window at a step of
16 shares 15/16 of its pixels with its neighbours), and one FFT per window correlates every
pixel 16 times over. When the step, the window sizes and their half-size differences are all
multiples of a block size b, every window is a union of b x b blocks of the reference on one
grid, and the numerator of its NCC at each lag is the sum over its blocks of the blocks'
correlations with the secondary at that lag. So each block is correlated once (one FFT of
b + 2s: 32 px for b = 16, s = 8, against 80 px per window) and each window adds up its
blocks' surfaces, for every window size at once.

Exactness: the template of a window is made zero-mean over the window, not over a block. With
block means m_b (of the strip minus its mean) and the window's mean m_W, the numerator is

    sum_b C_b(d) + sum_b (m_b - m_W) S_b(d)

where C_b is the correlation of the zero-mean block with the secondary and S_b(d) the
secondary's sum over the block moved by the lag d (from summed-area tables); the template's
norm is sqrt(sum_b Q_b + b^2 sum_b (m_b - m_W)^2) with Q_b the block's sum of squared
deviations. Every term is of the size of the texture, not of the images' mean, so float32
keeps the surfaces within 1e-6 of a float64 computation (the per-window FFT was 5e-3 off on a
bright, low-contrast image). Measured on a 560 x 4000 strip, 64 px windows, step 16, search 8:
3.3x faster than one FFT per window (docs/DECISIONS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import gcd
from typing import Any, Callable

import torch

from ..core.parallel import bands
from .window_grid import CentreGrid, windows

MIN_BLOCK = 8  # smaller blocks: more surfaces to add per window than the FFTs they save
FFT_BATCH = 2048  # blocks per FFT call: their spectra stay a few MB
WINDOW_BATCH = 1024  # windows per job: adding k x k surfaces is many small ops per batch


def block_size(sizes: tuple[int, ...], step: int, search: int) -> int:
    """The block size b shared by all windows, or 0 when blocks do not pay.

    Every window must be a union of blocks on one grid: b divides the step, every window size
    and the half-size differences; blocks pay when b >= MIN_BLOCK and the search is at most b
    (beyond, a block's FFT is mostly search area and the surfaces to add grow as (2s + 1)^2).
    """
    b = step
    for w in sizes:
        b = gcd(b, w)
        b = gcd(b, (sizes[-1] - w) // 2)
    return b if b >= MIN_BLOCK and search <= b else 0


@dataclass
class StripBlocks:
    """The block correlations of one strip, on the block grid of its windows.

    Global block (I, J) starts at strip-relative pixel (row0 + I * b, col0 + J * b); this strip
    holds blocks [bi0, bi1) x [bj0, bj1). ``corr`` (rows, cols, L, L) holds C_b, ``mean`` the
    block means m_b, ``sq`` the sums of squared deviations Q_b, ``sec_sums`` the secondary's
    b x b box sums at every strip pixel (see module doc).
    """

    b: int
    search: int
    row0: int
    col0: int
    bi0: int
    bj0: int
    corr: torch.Tensor
    mean: torch.Tensor
    sq: torch.Tensor
    sec_sums: torch.Tensor

    def lag_sums(self) -> torch.Tensor:
        """(rows, cols, L, L) view: the secondary's sum over each block moved by each lag."""
        rows, cols = self.mean.shape
        s, b = self.search, self.b
        top = self.row0 + self.bi0 * b - s
        left = self.col0 + self.bj0 * b - s
        return windows(self.sec_sums, top, left, 2 * s + 1, b, rows, cols)


def block_range(
    grid: CentreGrid,
    b: int,
    sizes: tuple[int, ...],
    spans: Mapping[int, tuple[tuple[int, int], tuple[int, int]]],
) -> tuple[int, int, int, int]:
    """Global block rows [bi0, bi1) and columns [bj0, bj1) that the windows of ``spans``
    (per size: (centre rows, centre columns) index ranges) cover."""
    q, big = grid.step // b, sizes[-1]
    lo = [10**12, 10**12]
    hi = [-(10**12), -(10**12)]
    for w in sizes:
        off, k = (big - w) // 2 // b, w // b
        for axis, (a, z) in enumerate(spans[w]):
            if z > a:
                lo[axis] = min(lo[axis], a * q + off)
                hi[axis] = max(hi[axis], (z - 1) * q + off + k)
    return lo[0], max(lo[0], hi[0]), lo[1], max(lo[1], hi[1])


def strip_blocks(
    ref: torch.Tensor,
    sec: torch.Tensor,
    sec_sums: torch.Tensor,
    grid: CentreGrid,
    top: int,
    b: int,
    sizes: tuple[int, ...],
    rng: tuple[int, int, int, int],
    spectra: tuple[dict[tuple[int, ...], Any], dict[tuple[int, ...], Any]] | None = None,
) -> tuple[StripBlocks, list[Callable[[], int]]]:
    """Empty block correlations for a strip and the jobs that fill them (bands of block rows).

    ``ref`` and ``sec`` are the strip's images (rows from image row ``top``), ``sec_sums`` the
    b x b box sums of ``sec - sec.mean()`` (ncc.local_tables), ``rng`` from
    :func:`block_range`. Each job returns 0 (the windows are counted when their surfaces are
    made). ``spectra``: two dicts, one kept with the reference image's strip and one with the
    secondary's, that hold the blocks' forward FFTs (which depend on one image only), so that a
    stack of images correlated in several pairs transforms each image's strip once
    (engine/timeseries/stack_tasks.py).
    """
    bi0, bi1, bj0, bj1 = rng
    s = grid.search
    lags, n = 2 * s + 1, b + 2 * s
    rows, cols = bi1 - bi0, bj1 - bj0
    dev = ref.device
    big = sizes[-1]
    blocks = StripBlocks(
        b=b,
        search=s,
        row0=grid.first_row - big // 2 - top,
        col0=grid.first_col - big // 2,
        bi0=bi0,
        bj0=bj0,
        corr=torch.empty((rows, cols, lags, lags), device=dev, dtype=ref.dtype),
        mean=torch.empty((rows, cols), device=dev, dtype=ref.dtype),
        sq=torch.empty((rows, cols), device=dev, dtype=ref.dtype),
        sec_sums=sec_sums,
    )
    ref_mean, sec_mean = ref.mean(), sec.mean()
    top_px = blocks.row0 + bi0 * b
    left_px = blocks.col0 + bj0 * b
    ref_view = windows(ref, top_px, left_px, b, b, rows, cols)
    sec_view = windows(sec, top_px - s, left_px - s, n, b, rows, cols)

    def band(r0: int, r1: int) -> int:
        for c0 in range(0, cols, max(1, FFT_BATCH // (r1 - r0))):
            c1 = min(cols, c0 + max(1, FFT_BATCH // (r1 - r0)))
            key = (*rng, r0, r1, c0, c1)
            shape = (r1 - r0, c1 - c0)
            ref_part = spectra[0].get(key) if spectra is not None else None
            if ref_part is None:
                tiles = ref_view[r0:r1, c0:c1] - ref_mean
                means = tiles.mean(dim=(2, 3), keepdim=True)
                centred = (tiles - means).reshape(-1, b, b)
                ref_part = (
                    torch.conj(torch.fft.rfft2(centred, s=(n, n))),
                    means.reshape(shape),
                    centred.square().sum(dim=(1, 2)).reshape(shape),
                )
                if spectra is not None:
                    spectra[0][key] = ref_part
            sec_spec = spectra[1].get(key) if spectra is not None else None
            if sec_spec is None:
                areas = (sec_view[r0:r1, c0:c1] - sec_mean).reshape(-1, n, n)
                sec_spec = torch.fft.rfft2(areas)
                if spectra is not None:
                    spectra[1][key] = sec_spec
            spec = sec_spec * ref_part[0]
            corr = torch.fft.irfft(torch.fft.ifft(spec, dim=-2)[:, :lags], n=n, dim=-1)
            blocks.corr[r0:r1, c0:c1] = corr[:, :, :lags].reshape(*shape, lags, lags)
            blocks.mean[r0:r1, c0:c1] = ref_part[1]
            blocks.sq[r0:r1, c0:c1] = ref_part[2]
        return 0

    per_band = max(1, min(rows, FFT_BATCH // max(cols, 1)))
    per_band = max(per_band, -(-rows // 8))  # a few bands per strip keep every worker busy
    return blocks, bands(band, rows, per_band)


def window_sums(
    corr: torch.Tensor,
    mean: torch.Tensor,
    sq: torch.Tensor,
    lag_sums: torch.Tensor,
    b: int,
    q: int,
    k: int,
    first: tuple[int, int],
    count: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Numerators and template norms of windows of k x k blocks from their blocks' terms.

    ``corr`` (rows, cols, *lags) C_b, ``mean`` m_b, ``sq`` Q_b, ``lag_sums`` S_b (same shape as
    ``corr``) on a block grid; the windows start at block ``first`` (row, column) and every
    ``q`` blocks after, ``count`` (rows, columns) of them. Returns the numerators (N, *lags)
    and the norms (N,) of the zero-mean templates (see module doc).
    """
    (r0, c0), (nr, nc) = first, count

    def part(x: torch.Tensor, u: int, v: int) -> torch.Tensor:
        return x[r0 + u : r0 + u + (nr - 1) * q + 1 : q, c0 + v : c0 + v + (nc - 1) * q + 1 : q]

    msum = mean.new_zeros((nr, nc))
    for u in range(k):
        for v in range(k):
            msum += part(mean, u, v)
    m_w = msum / (k * k)
    extra = (None,) * (corr.dim() - 2)
    num = corr.new_zeros((nr, nc, *corr.shape[2:]))
    sqsum = torch.zeros_like(msum)
    dev2 = torch.zeros_like(msum)
    for u in range(k):
        for v in range(k):
            dm = part(mean, u, v) - m_w
            num += part(corr, u, v)
            num.addcmul_(dm[(..., *extra)], part(lag_sums, u, v))
            sqsum += part(sq, u, v)
            dev2 += dm.square()
    tnorm = (sqsum + b * b * dev2).clamp_min(0).sqrt().reshape(-1)
    return num.reshape(nr * nc, *corr.shape[2:]), tnorm


def block_surfaces(
    blocks: StripBlocks,
    grid: CentreGrid,
    size: int,
    rows: tuple[int, int],
    cols: tuple[int, int],
    energy: torch.Tensor,
) -> torch.Tensor:
    """NCC surfaces (N, L, L) of the windows of ``size`` at centres [rows) x [cols) (global
    centre indices) from the strip's block correlations; ``energy`` (N, L, L): the secondary's
    local energy under each lag, as for :func:`ncc_surface`."""
    b = blocks.b
    q = grid.step // b
    shift = blocks_offset(blocks, grid, size)
    first = (rows[0] * q + shift - blocks.bi0, cols[0] * q + shift - blocks.bj0)
    count = (rows[1] - rows[0], cols[1] - cols[0])
    num, tnorm = window_sums(
        blocks.corr, blocks.mean, blocks.sq, blocks.lag_sums(), b, q, size // b, first, count
    )
    denom = energy * tnorm.view(-1, 1, 1)
    eps = 1e-6 * denom.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return torch.where(denom > eps, num / denom.clamp_min(1e-30), torch.zeros_like(num))


def blocks_offset(blocks: StripBlocks, grid: CentreGrid, size: int) -> int:
    """Global block index of the first block of the window of ``size`` at centre index 0."""
    big_half = grid.first_col - blocks.col0  # half the largest window size
    return (big_half - size // 2) // blocks.b


def shifted_block_terms(
    ref: torch.Tensor,
    moved: torch.Tensor,
    b: int,
    rows: tuple[int, int],
    cols: int,
    lags: tuple[tuple[int, int], ...],
    means: tuple[float, float],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Block terms (C_b, m_b, Q_b, S_b; module doc) of a few whole-pixel lags, for the window
    deformation's residuals (deform.py), where the secondary is already resampled onto the
    reference and only the lags around zero are wanted: products of pixels summed per block,
    no FFT.

    ``ref`` starts at the first block's top-left pixel; ``moved`` one pixel above and left of
    it, so lag (a, c) of ``lags`` pairs block pixel p with ``moved[p + (a, c)]``. Returns the
    terms of block rows [rows) and ``cols`` block columns, the lags last; ``means`` (of ``ref``,
    of ``moved``) are subtracted first so that float32 keeps the texture's digits.
    """
    r0, r1 = rows
    n_r = r1 - r0
    tiles = (ref[r0 * b : r1 * b, : cols * b] - means[0]).reshape(n_r, b, cols, b)
    mean = tiles.mean(dim=(1, 3))
    centred = tiles - mean[:, None, :, None]
    sq = centred.square().sum(dim=(1, 3))
    corr = ref.new_empty((n_r, cols, len(lags)))
    sums = ref.new_empty((n_r, cols, len(lags)))
    for i, (a, c) in enumerate(lags):
        part = moved[r0 * b + a : r1 * b + a, c : c + cols * b] - means[1]
        part = part.reshape(n_r, b, cols, b)
        corr[..., i] = (centred * part).sum(dim=(1, 3))
        sums[..., i] = part.sum(dim=(1, 3))
    return corr, mean, sq, sums
