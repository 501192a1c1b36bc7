"""Window deformation: correlation passes that remove pixel locking and follow the field.

The first pass (ncc.py) finds each window's integer peak and refines it with 3-point fits. That
fit is biased towards whole pixels (pixel locking, about 0.05 px on real textures with speckle)
by the shape of the peak, and a window whose ground moves by different amounts across its width
sees a blurred peak at its mean motion, not the motion at its centre. Both go away when the
secondary is resampled so that it already lines up with the reference, as OpenPIV's multi-pass
window deformation does (Scarano 2002, Meas. Sci. Technol. 13 R1-R19,
doi:10.1088/0957-0233/13/1/201). Each pass over one strip and window size:

1. the offsets so far are cleaned by a 3 x 3 median (an outlier does not deform its
   neighbours), smoothed by a Gaussian of a quarter window (the deforming field must not carry
   the point noise of single windows), extended linearly past the last centres, and
   interpolated (bilinear) to every pixel of the strip's windows;
2. the secondary is sampled at every pixel's displaced position (cubic B-spline, as OpenPIV's
   spline interpolation; bicubic convolution left 0.04 px of locking on real SAR texture),
   once for all the overlapping windows of a strip, so the remaining offset of each window is a
   small residual;
3. the NCC at the five lags (0, 0), (+-1, 0), (0, +-1) gives that residual by 3-point fits near
   zero lag, where their bias nearly vanishes; the offset is the field at the centre plus it.

A window whose new offset moves more than one pixel from its previous one, whose residual is not
inside one pixel, or whose deformed window leaves the strip keeps its previous offset (the
outlier filter and the uncertainty see it as before). Batched torch, no loop over windows.
Measurements behind the choices: docs/DECISIONS.md, "Sub-pixel offsets: window deformation".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from math import gcd

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from ..core.parallel import bands, run_batches
from ..core.progress import Reporter
from .block_ncc import WINDOW_BATCH, shifted_block_terms, window_sums
from .ncc import gaussian_or_parabolic, local_energy
from .pixel_offsets import PixelOffsets
from .window_grid import CentreGrid, windows

PASSES = 1  # deformation passes after the first correlation (a second: +40% time, gains only
# where the field varies strongly inside a window; docs/DECISIONS.md)
SMOOTHING = 0.25  # Gaussian smoothing of the deforming field, sigma = SMOOTHING * window (px)
MAX_CHANGE_PX = 1.0


def nan_median3(field: torch.Tensor) -> torch.Tensor:
    """3 x 3 median of a (rows, cols) grid ignoring NaN (NaN where the whole neighbourhood is)."""
    padded = F.pad(field[None, None], (1, 1, 1, 1), value=float("nan"))[0, 0]
    patches = padded.unfold(0, 3, 1).unfold(1, 3, 1).reshape(*field.shape, 9)
    return torch.nanmedian(patches, dim=-1).values


def smooth_grid(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian smoothing (``sigma`` in grid points) of a (C, rows, cols) grid ignoring NaN."""
    if sigma <= 0:
        return field
    radius = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, device=field.device, dtype=field.dtype)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    ok = torch.isfinite(field).to(field.dtype)
    vals = torch.where(ok > 0, field, torch.zeros_like(field))
    out = []
    for arr in (vals, ok):
        a = arr[:, None]
        a = F.conv2d(F.pad(a, (radius, radius, 0, 0)), k.view(1, 1, 1, -1))
        a = F.conv2d(F.pad(a, (0, 0, radius, radius)), k.view(1, 1, -1, 1))
        out.append(a[:, 0])
    return torch.where(out[1] > 1e-3, out[0] / out[1].clamp_min(1e-12), field)


def _extend_axis(field: torch.Tensor, margin: int, dim: int) -> torch.Tensor:
    """Extend a grid by ``margin`` points at both ends of ``dim``, continuing the slope over the
    last few points (a constant where the grid is too short or the slope is NaN)."""
    n = field.shape[dim]
    k = min(4, n - 1)
    steps = torch.arange(1, margin + 1, device=field.device, dtype=field.dtype)
    shape = [1] * field.dim()
    shape[dim] = margin
    steps = steps.view(shape)
    parts = []
    for end, inner, sign in ((0, k, -1), (n - 1, n - 1 - k, 1)):
        edge = field.narrow(dim, end, 1)
        if k > 0:
            slope = (edge - field.narrow(dim, inner, 1)) / k
            slope = torch.where(torch.isfinite(slope), slope, torch.zeros_like(slope))
        else:
            slope = torch.zeros_like(edge)
        ext = edge + slope * steps
        parts.append(ext.flip(dim) if sign < 0 else ext)
    return torch.cat((parts[0], field, parts[1]), dim=dim)


def extend_field(field: torch.Tensor, margin: int) -> torch.Tensor:
    """A (C, rows, cols) grid extended by ``margin`` points on every side, linearly, so that the
    deformation of a window reaching past the last centres follows the field's slope there."""
    return _extend_axis(_extend_axis(field, margin, 1), margin, 2)


def _grid_coords(pos: torch.Tensor, extent: int) -> torch.Tensor:
    """Pixel-centre positions (index units) to grid_sample's [-1, 1] (align_corners=True)."""
    return pos * (2.0 / max(extent - 1, 1)) - 1.0


def _sample(image: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, mode: str) -> torch.Tensor:
    """Values of a (C, H, W) image at fractional (rows, cols) of shape (N, h, w): (C, N, h, w)."""
    c, height, width = image.shape
    grid = torch.stack((_grid_coords(cols, width), _grid_coords(rows, height)), dim=-1)
    n, h, w, _ = grid.shape
    out = F.grid_sample(
        image[None],
        grid.reshape(1, n * h, w, 2),
        mode=mode,
        padding_mode="border",
        align_corners=True,
    )
    return out[0].reshape(c, n, h, w)


PREFILTER_RADIUS = 2  # taps each side; 2 to 8 gave the same offsets (docs/DECISIONS.md)


def spline_coefficients(image: torch.Tensor, radius: int | None = None) -> torch.Tensor:
    """Cubic B-spline coefficients of a (H, W) image, so that :func:`spline_sample` interpolates
    it (nearly) exactly at whole pixels, as scipy's spline_filter does.

    The prefilter inverts the sampled B-spline [1, 4, 1] / 6 along each axis; its impulse response
    decays as (2 - sqrt(3))^k = 0.27^k, so it is truncated at ``radius`` taps each side (mirror
    boundaries) and applied as shifted sums."""
    r_max = PREFILTER_RADIUS if radius is None else radius
    pole = 3**0.5 - 2
    gain = -6 * pole / (1 - pole * pole)
    taps = [gain * pole ** abs(k) for k in range(-r_max, r_max + 1)]
    norm = sum(taps)  # keep flat areas flat after truncation
    x = image
    for dim in (0, 1):
        n = x.shape[dim]
        r = min(r_max, n - 1)
        if r < 1:
            continue
        pad = (0, 0, r, r) if dim == 0 else (r, r, 0, 0)
        p = F.pad(x[None, None], pad, mode="reflect")[0, 0]
        out = p.narrow(dim, r, n) * (taps[r_max] / norm)
        for k in range(1, r + 1):
            out = out + (p.narrow(dim, r - k, n) + p.narrow(dim, r + k, n)) * (
                taps[r_max + k] / norm
            )
        x = out
    return x.contiguous()


def spline_sample(coeffs: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Cubic B-spline interpolation at fractional (rows, cols) (any shape) from
    :func:`spline_coefficients`, positions clamped to the image.

    The B-spline's weights are all positive, so each sample is four bilinear reads at shifted
    positions (Sigg and Hadwiger, GPU Gems 2, 2005), done by grid_sample."""
    height, width = coeffs.shape
    shape = rows.shape
    grid = torch.empty((4, *shape, 2), device=rows.device, dtype=rows.dtype)
    weights = []
    for axis, (pos, extent) in enumerate(((cols, width), (rows, height))):
        pos = pos.clamp(0, extent - 1)
        base = pos.floor()
        t = pos - base
        # B-spline weights w0..w3 = (1-t)^3/6, t^3/2 - t^2 + 2/3, ..., t^3/6; in place, as each
        # temporary is a whole band of pixels: g0 = w0 + w1, g1 = w2 + w3 = 1 - g0
        t3 = t * t
        t3.mul_(t)
        omt = 1 - t
        g0 = omt * omt
        g0.mul_(omt).div_(6)
        w1 = t.square_().mul_(-1).add_(t3, alpha=0.5).add_(2.0 / 3.0)
        g0.add_(w1)
        g1 = 1 - g0
        scale = 2.0 / max(extent - 1, 1)
        h0 = w1.div_(g0).add_(base - 1).mul_(scale).sub_(1)  # between the reads of w0 and w1
        h1 = t3.div_(g1.clamp_min(1e-12).mul_(6)).add_(base + 1).mul_(scale).sub_(1)
        if axis == 0:  # columns: x of grid_sample; reads 0, 2 at h0 and 1, 3 at h1
            grid[0, ..., 0], grid[1, ..., 0], grid[2, ..., 0], grid[3, ..., 0] = h0, h1, h0, h1
        else:  # rows: y; reads 0, 1 at h0 and 2, 3 at h1
            grid[0, ..., 1], grid[1, ..., 1], grid[2, ..., 1], grid[3, ..., 1] = h0, h0, h1, h1
        weights.append((g0, g1))
    (gc0, gc1), (gr0, gr1) = weights
    vals = F.grid_sample(
        coeffs[None, None],
        grid.reshape(1, -1, shape[-1], 2),
        mode="bilinear",
        padding_mode="border",
        align_corners=True,
    ).reshape(4, *shape)
    top = vals[0].mul_(gc0).addcmul_(vals[1], gc1)
    bottom = vals[2].mul_(gc0).addcmul_(vals[3], gc1)
    return top.mul_(gr0).addcmul_(bottom, gr1)


LAGS = ((0, 1), (1, 1), (2, 1), (1, 0), (1, 2))  # (row, col) of the cross in a (w+2) patch


def _cross_ncc(templates: torch.Tensor, patch: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
    """NCC of templates (N, w, w) with a (N, w+2, w+2) patch at the five lags of
    :data:`LAGS`, i.e. (-1, 0), (0, 0), (+1, 0), (0, -1), (0, +1): returns (N, 5), one window at
    a time (windows whose size and step share no block of 4 px or more; otherwise
    block_ncc.shifted_block_terms). ``energy`` (N, 5) is the patch's sqrt(sum of squared
    deviations) under each lag (from summed-area tables)."""
    w = templates.shape[-1]
    t0 = templates - templates.mean(dim=(1, 2), keepdim=True)
    tnorm = torch.linalg.vector_norm(t0, dim=(1, 2))
    num = torch.stack([(patch[:, a : a + w, b : b + w] * t0).sum(dim=(1, 2)) for a, b in LAGS], 1)
    return num / (energy * tnorm[:, None]).clamp_min(1e-30)


BlockTerms = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # C_b, m_b, Q_b, S_b
MIN_RESIDUAL_BLOCK = 4  # window and step sharing a smaller block: one window at a time
BAND_PIXELS = 1 << 18  # pixels deformed per job (a few MB of temporaries each)
ENERGY_ROWS = 256  # rows of deformed-window energies per job (the tables' tile height)


def _lerp_along(field: torch.Tensor, pos: torch.Tensor, dim: int) -> torch.Tensor:
    """Linear interpolation of a grid along ``dim`` at fractional indices ``pos`` (1-D,
    clamped to the grid, as grid_sample's border padding)."""
    n = field.shape[dim]
    pos = pos.clamp(0, n - 1)
    i0 = pos.floor().clamp(max=max(n - 2, 0)).long()
    t = pos - i0.to(pos.dtype)
    i1 = (i0 + 1).clamp(max=n - 1)
    shape = [1] * field.dim()
    shape[dim] = -1
    t = t.view(shape)
    return field.index_select(dim, i0) * (1 - t) + field.index_select(dim, i1) * t


def deform_rows(
    coeffs: torch.Tensor,
    field_cols: torch.Tensor,
    field_row0: float,
    step: int,
    rows: torch.Tensor,
    cols: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The secondary resampled where a field moves each pixel of a block of the strip.

    Args:
        coeffs: (H, W) secondary strip as cubic B-spline coefficients.
        field_cols: (2, rows, len(cols)) offsets (rows, columns; pixels) on the rows of a grid
            of points ``step`` pixels apart, already interpolated to each pixel column
            (:func:`_lerp_along`); the grid's first row is at pixel-corner row ``field_row0``.
        field_row0: row of the field's first point.
        step: the field's spacing.
        rows, cols: 1-D pixel rows and columns of the block.

    Returns:
        (deformed, inside): the block (len(rows), len(cols)) of the secondary sampled at each
        pixel plus the field there (bilinear in the grid, separably), and 1.0 where that
        position lies inside the strip.
    """
    height, width = coeffs.shape
    pix = _lerp_along(field_cols, (rows + 0.5 - field_row0) / step, 1)
    sr = rows[:, None] + pix[0]
    sc = cols[None, :] + pix[1]
    inside = (sr >= 0) & (sr <= height - 1) & (sc >= 0) & (sc <= width - 1)
    return spline_sample(coeffs, sr, sc), inside.to(coeffs.dtype)


def residual_offsets(c: torch.Tensor, inside: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Residual (rows, columns) offsets from the NCC (N, 5) at the cross of lags :data:`LAGS`
    around zero, by 3-point fits, and whether they are usable (inside one pixel, every patch
    pixel sampled inside the strip: ``inside`` (N,))."""
    corr_y = gaussian_or_parabolic(c[:, 0], c[:, 1], c[:, 2])
    corr_x = gaussian_or_parabolic(c[:, 3], c[:, 1], c[:, 4])
    ok = inside & (corr_y.abs() < 1) & (corr_x.abs() < 1)
    return corr_y, corr_x, ok


def _inside_along_rows(inside: torch.Tensor, size: int, step: int, nj: int) -> torch.Tensor:
    """(rows, nj): 1.0 where the (size + 2) pixels of a row under each window's patch were all
    sampled inside the strip (``inside``: 1.0 per pixel); a sliding minimum along the row."""
    x = inside[:, : (nj - 1) * step + size + 2][None, None]
    return -F.max_pool2d(-x, (1, size + 2), (1, step))[0, 0]


def _all_inside(rows_inside: torch.Tensor, size: int, step: int, ni: int) -> torch.Tensor:
    """(ni * nj,) whether every pixel of each (size + 2) patch was sampled inside the strip,
    from :func:`_inside_along_rows`: the sliding minimum down the columns."""
    x = rows_inside[: (ni - 1) * step + size + 2][None, None]
    return -F.max_pool2d(-x, (size + 2, 1), (step, 1))[0, 0].reshape(-1) > 0


def deform_halo(size: int, step: int) -> int:
    """Centre rows beyond a strip's own that its deforming field is built from: the windows'
    reach, the 3 x 3 median, the smoothing and the interpolation."""
    sigma = SMOOTHING * size / step
    return size // 2 // step + 2 + max(1, int(3 * sigma + 0.5)) + 2


def refine_strip(
    ref: torch.Tensor,
    sec: torch.Tensor,
    top: int,
    rows: tuple[int, int],
    cols: tuple[int, int],
    grid: CentreGrid,
    size: int,
    chunk: int,
    out: PixelOffsets,
    field_before: tuple[np.ndarray, np.ndarray],
    valid_rows: tuple[int, int],
    pool: ThreadPoolExecutor | None,
    rep: Reporter,
    on_done: Callable[[int], None],
) -> None:
    """One window-deformation pass over one strip's windows of one window size.

    ``ref`` is the strip's reference image and ``sec`` its secondary as cubic B-spline
    coefficients (:func:`spline_coefficients`), both nodata-filled and pre-filtered, starting at
    image row ``top``; ``rows`` and ``cols`` are the strip's centre index ranges for this size.
    ``field_before`` holds this size's (dy, dx) on the whole centre grid before the pass and
    ``valid_rows`` the rows where this size has offsets: the deforming field is built from the
    rows around the strip as well, so the result does not depend on how the image is cut into
    strips. Results go to ``out``. The secondary is deformed once for all windows (bands of
    rows, in the worker pool), then each batch of windows measures its residuals on views of it.
    """
    (i0, i1), (j0, j1) = rows, cols
    if i1 <= i0 or j1 <= j0:
        return
    h, step = size // 2, grid.step
    ni, nj = i1 - i0, j1 - j0
    r_first = grid.first_row + i0 * step - top
    c_first = grid.first_col + j0 * step
    dev, dtype = sec.device, sec.dtype
    sigma = SMOOTHING * size / step
    margin = h // step + 2
    halo = deform_halo(size, step)
    g0, g1 = max(valid_rows[0], i0 - halo), min(valid_rows[1], i1 + halo)
    near = [torch.from_numpy(f[g0:g1, j0:j1].copy()).to(dev, dtype) for f in field_before]
    clean = smooth_grid(torch.stack([nan_median3(f) for f in near]), sigma)
    field = extend_field(clean, margin)
    origin = (
        float(grid.first_row + (g0 - margin) * step - top),
        float(c_first - margin * step),
    )
    first_y, first_x = (f[i0 - g0 : i1 - g0] for f in near)
    # the strip's pixels under the windows, each window with one pixel more on every side
    top0, left0 = r_first - h - 1, c_first - h - 1
    height, width = (ni - 1) * step + size + 2, (nj - 1) * step + size + 2
    rows_px = top0 + torch.arange(height, device=dev, dtype=dtype)
    cols_px = left0 + torch.arange(width, device=dev, dtype=dtype)
    deformed = torch.empty((height, width), device=dev, dtype=dtype)
    inside = torch.empty((height, nj), device=dev, dtype=dtype)  # per row, under each patch

    field_cols = _lerp_along(field, (cols_px + 0.5 - origin[1]) / step, 2)

    def band(a: int, b: int) -> int:
        deformed[a:b], band_inside = deform_rows(
            sec, field_cols, origin[0], step, rows_px[a:b], cols_px
        )
        inside[a:b] = _inside_along_rows(band_inside, size, step, nj)
        return 0

    run_batches(bands(band, height, BAND_PIXELS // width), pool, rep, on_done)
    centre_r = (r_first + torch.arange(ni, device=dev, dtype=dtype) * step - origin[0]) / step
    centre_c = (c_first + torch.arange(nj, device=dev, dtype=dtype) * step - origin[1]) / step
    gr, gc = torch.broadcast_tensors(centre_r[:, None], centre_c[None, :])
    at_centre = _sample(field, gr[None], gc[None], "bilinear")[:, 0]
    # energies of every window position of the deformed block, once (summed-area tables built
    # block by block, as the first pass does: no whole-strip float64 temporaries)
    energy = deformed.new_empty((height - size + 1, width - size + 1))

    def energy_band(a: int, b: int) -> int:
        energy[a:b] = local_energy(deformed[a : b + size - 1], size)
        return 0

    run_batches(bands(energy_band, len(energy), ENERGY_ROWS), pool, rep, on_done)
    e_views = [windows(energy, a, b, 1, step, ni, nj)[..., 0, 0] for a, b in LAGS]
    t_view = windows(ref, r_first - h, c_first - h, size, step, ni, nj)
    p_view = windows(deformed, 0, 0, size + 2, step, ni, nj)
    usable = _all_inside(inside, size, step, ni)
    rows_per_chunk = max(1, chunk // nj)
    # the numerators from b x b blocks shared by the overlapping windows (block_ncc.py)
    blk = gcd(step, size)
    terms = _block_terms(ref, deformed, r_first - h, c_first - h, blk, size, step, (ni, nj))
    if terms is not None:
        run_batches(terms[1], pool, rep, on_done)
        rows_per_chunk = max(rows_per_chunk, WINDOW_BATCH // nj, 1)

    def job(a: int, b: int) -> int:
        n = (b - a) * nj
        e = torch.stack([e[a:b].reshape(n) for e in e_views], dim=1)
        if terms is not None:
            q = step // blk
            corr, mean, sq, sums = terms[0]
            num, tnorm = window_sums(
                corr, mean, sq, sums, blk, q, size // blk, (a * q, 0), (b - a, nj)
            )
            c = num / (e * tnorm[:, None]).clamp_min(1e-30)
        else:
            t = t_view[a:b].reshape(n, size, size)
            c = _cross_ncc(t, p_view[a:b].reshape(n, size + 2, size + 2), e)
        ry, rx, ok = residual_offsets(c, usable[a * nj : b * nj])
        dy = at_centre[0, a:b].reshape(n) + ry
        dx = at_centre[1, a:b].reshape(n) + rx
        fy, fx = first_y[a:b].reshape(n), first_x[a:b].reshape(n)
        ok &= ((dy - fy).abs() <= MAX_CHANGE_PX) & ((dx - fx).abs() <= MAX_CHANGE_PX)
        sub = (slice(i0 + a, i0 + b), slice(j0, j1))
        out.dy[size][sub] = torch.where(ok, dy, fy).reshape(b - a, nj).cpu().numpy()
        out.dx[size][sub] = torch.where(ok, dx, fx).reshape(b - a, nj).cpu().numpy()
        return n

    run_batches(bands(job, ni, rows_per_chunk), pool, rep, on_done)


def _block_terms(
    ref: torch.Tensor,
    deformed: torch.Tensor,
    top: int,
    left: int,
    blk: int,
    size: int,
    step: int,
    count: tuple[int, int],
) -> tuple[BlockTerms, list[Callable[[], int]]] | None:
    """Empty block terms for the residual NCC of ``count`` windows whose first template starts
    at (top, left) of ``ref``, and the jobs (bands of block rows) that fill them; None when the
    window size and step share no block of MIN_RESIDUAL_BLOCK px or more."""
    if blk < MIN_RESIDUAL_BLOCK:
        return None
    q, k = step // blk, size // blk
    n_r, n_c = (count[0] - 1) * q + k, (count[1] - 1) * q + k
    area = ref[top : top + n_r * blk, left : left + n_c * blk]
    means = (float(area.mean()), float(deformed.mean()))
    corr = ref.new_empty((n_r, n_c, len(LAGS)))
    sums = torch.empty_like(corr)
    mean = ref.new_empty((n_r, n_c))
    sq = torch.empty_like(mean)

    def band(r0: int, r1: int) -> int:
        c, m, s2, sm = shifted_block_terms(area, deformed, blk, (r0, r1), n_c, LAGS, means)
        corr[r0:r1], mean[r0:r1], sq[r0:r1], sums[r0:r1] = c, m, s2, sm
        return 0

    return (corr, mean, sq, sums), bands(band, n_r, BAND_PIXELS // (n_c * blk * blk))
