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
2. the secondary is sampled at every pixel's displaced position (bicubic), once for all the
   overlapping windows of a batch, so the remaining offset of each window is a small residual;
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
from functools import partial

import torch
import torch.nn.functional as F  # noqa: N812

from ..parallel import run_batches
from ..progress import Reporter
from .ncc import gaussian_or_parabolic
from .pixel_offsets import PixelOffsets
from .window_grid import CentreGrid, windows

PASSES = 2  # deformed passes after the first correlation (1: max bias 0.022 px, 2: 0.017 px)
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


def _cross_ncc(t0: torch.Tensor, tnorm: torch.Tensor, patch: torch.Tensor) -> torch.Tensor:
    """NCC of zero-mean templates (N, w, w) with a (N, w+2, w+2) patch at the five lags of a
    cross: returns (N, 5) for lags (-1, 0), (0, 0), (+1, 0), (0, -1), (0, +1) (rows, cols).

    The template is zero-mean, so the numerator needs no patch mean; the patch's energy under
    each lag comes from its sums and sums of squares."""
    w = t0.shape[-1]
    sq = patch * patch
    out = []
    for a, b in ((0, 1), (1, 1), (2, 1), (1, 0), (1, 2)):
        p = patch[:, a : a + w, b : b + w]
        total = p.sum(dim=(1, 2))
        energy = (sq[:, a : a + w, b : b + w].sum(dim=(1, 2)) - total * total / (w * w)).clamp_min(
            0
        )
        num = (p * t0).sum(dim=(1, 2))
        out.append(num / (energy.sqrt() * tnorm).clamp_min(1e-30))
    return torch.stack(out, dim=1)


def deformed_offsets(
    templates: torch.Tensor,
    secondary: torch.Tensor,
    top: int,
    left: int,
    step: int,
    field: torch.Tensor,
    field_origin: tuple[float, float],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual-corrected offsets of a block of windows whose secondary is deformed by a field.

    Args:
        templates: (ni, nj, w, w) reference windows, ``step`` pixels apart, the first one's
            first pixel at (``top``, ``left``) of ``secondary``.
        secondary: (H, W) secondary image (the strip).
        top, left: position of the first window's first pixel.
        step: distance between windows, and between the points of ``field``.
        field: (2, rows, cols) cleaned offsets (rows, columns; pixels) on a grid of points
            ``step`` pixels apart, the first one at pixel-corner position ``field_origin``.
        field_origin: (row, column) of the field's first point in ``secondary``.

    Returns:
        (dy, dx, ok), each (ni * nj,): the field at each window's centre plus the residual,
        and whether the residual settled (inside one pixel) with the window inside the image.
    """
    ni, nj, w, _ = templates.shape
    n = ni * nj
    dev, dtype = templates.device, templates.dtype
    height, width = secondary.shape
    f0r, f0c = field_origin
    field = field.to(dtype)
    # the whole block's pixels once (windows overlap): positions, field, deformed secondary
    rr = top - 1 + torch.arange((ni - 1) * step + w + 2, device=dev, dtype=dtype)
    cc = left - 1 + torch.arange((nj - 1) * step + w + 2, device=dev, dtype=dtype)
    rows, cols = torch.broadcast_tensors(rr[:, None], cc[None, :])
    pix = _sample(
        field, ((rows + 0.5 - f0r) / step)[None], ((cols + 0.5 - f0c) / step)[None], "bilinear"
    )[:, 0]
    sr, sc = rows + pix[0], cols + pix[1]
    inside_px = ((sr >= 0) & (sr <= height - 1) & (sc >= 0) & (sc <= width - 1)).to(dtype)
    inside = windows(inside_px, 0, 0, w + 2, step, ni, nj).amin(dim=(2, 3)).reshape(n) > 0
    deformed = _sample(secondary[None], sr[None], sc[None], "bicubic")[0, 0]
    cr = (top + torch.arange(ni, device=dev, dtype=dtype) * step + w / 2 - f0r) / step
    ccn = (left + torch.arange(nj, device=dev, dtype=dtype) * step + w / 2 - f0c) / step
    cgr, cgc = torch.broadcast_tensors(cr[:, None], ccn[None, :])
    at_centre = _sample(field, cgr[None], cgc[None], "bilinear")[:, 0].reshape(2, n)
    t = templates.reshape(n, w, w)
    t0 = t - t.mean(dim=(1, 2), keepdim=True)
    tnorm = torch.linalg.vector_norm(t0, dim=(1, 2))
    patch = windows(deformed, 0, 0, w + 2, step, ni, nj).reshape(n, w + 2, w + 2)
    c = _cross_ncc(t0, tnorm, patch)
    corr_y = gaussian_or_parabolic(c[:, 0], c[:, 1], c[:, 2])
    corr_x = gaussian_or_parabolic(c[:, 3], c[:, 1], c[:, 4])
    ok = inside & (corr_y.abs() < 1) & (corr_x.abs() < 1)
    ok &= torch.isfinite(at_centre).all(dim=0)
    return at_centre[0] + corr_y, at_centre[1] + corr_x, ok


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
    pool: ThreadPoolExecutor | None,
    rep: Reporter,
    on_done: Callable[[int], None],
) -> None:
    """Second, deformed pass over one strip's first-pass offsets of one window size (in place).

    ``ref`` and ``sec`` are the strip's images (nodata filled, pre-filtered) starting at image
    row ``top``; ``rows`` and ``cols`` the centre index ranges the first pass filled in ``out``.
    """
    (i0, i1), (j0, j1) = rows, cols
    if i1 <= i0 or j1 <= j0:
        return
    h, step = size // 2, grid.step
    ni, nj = i1 - i0, j1 - j0
    r_first = grid.first_row + i0 * step - top
    c_first = grid.first_col + j0 * step
    block = (slice(i0, i1), slice(j0, j1))
    first_y = torch.from_numpy(out.dy[size][block].copy()).to(sec.device, sec.dtype)
    first_x = torch.from_numpy(out.dx[size][block].copy()).to(sec.device, sec.dtype)
    margin = h // step + 2
    sigma = SMOOTHING * size / step
    clean = smooth_grid(torch.stack((nan_median3(first_y), nan_median3(first_x))), sigma)
    field = extend_field(clean, margin)
    t_view = windows(ref, r_first - h, c_first - h, size, step, ni, nj)
    rows_per_chunk = max(1, chunk // nj)

    def job(a: int, b: int) -> int:
        dy, dx, ok = deformed_offsets(
            t_view[a:b],
            sec,
            r_first - h + a * step,
            c_first - h,
            step,
            field,
            (r_first - margin * step, c_first - margin * step),
        )
        fy, fx = first_y[a:b].reshape(-1), first_x[a:b].reshape(-1)
        ok &= ((dy - fy).abs() <= MAX_CHANGE_PX) & ((dx - fx).abs() <= MAX_CHANGE_PX)
        sub = (slice(i0 + a, i0 + b), slice(j0, j1))
        out.dy[size][sub] = torch.where(ok, dy, fy).reshape(b - a, nj).cpu().numpy()
        out.dx[size][sub] = torch.where(ok, dx, fx).reshape(b - a, nj).cpu().numpy()
        return (b - a) * nj

    jobs = [partial(job, a, min(ni, a + rows_per_chunk)) for a in range(0, ni, rows_per_chunk)]
    run_batches(jobs, pool, rep, on_done)
