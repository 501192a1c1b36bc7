"""Batched normalized cross-correlation in the frequency domain, with a sub-pixel peak fit.

For a batch of templates ``T`` (N, w, w) taken from the reference image and search areas ``S``
(N, w + 2s, w + 2s) taken from the secondary image around the same centres, the correlation
surface has (2s + 1)^2 lags. Lag (dy, dx) = (0, 0) means the template's content sits s pixels up
and left of its reference position; the offset of the feature is therefore (dy - s, dx - s).
Everything is torch, so the same code runs on a CUDA GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PeakResult:
    """Per-window results of :func:`ncc_offsets` (all tensors of shape (N,))."""

    dy: torch.Tensor  # row offset in pixels, positive down
    dx: torch.Tensor  # column offset in pixels, positive right
    peak: torch.Tensor  # peak normalized cross-correlation in [-1, 1]
    valid: torch.Tensor  # bool: peak inside the search area (not on its border), finite
    sigma_y: torch.Tensor | None = None  # raw 1-sigma of dy in pixels (uncalibrated, see below)
    sigma_x: torch.Tensor | None = None  # raw 1-sigma of dx in pixels


def peak_sigma(
    cm: torch.Tensor, c0: torch.Tensor, cp: torch.Tensor, noise: torch.Tensor, w: int
) -> torch.Tensor:
    """Raw 1-sigma (pixels) of a sub-pixel peak along one axis, before calibration.

    The Cramer-Rao form used by ampcor's covariance and in speckle tracking: the variance grows
    with the decorrelated share of the signal (1 - c0^2) and shrinks with the peak's sharpness
    (its normalised curvature) and the number of pixels in the window (w^2). The noise of the
    surface away from the peak (its standard deviation, COSI-Corr's SNR in reverse) raises it
    further where a false peak could compete. Calibrated in engine/offsets/uncertainty.py.
    """
    curv = (2 * c0 - cm - cp).clamp_min(1e-3)
    rho = c0.clamp(1e-3, 0.999)
    snr_term = 1.0 + (noise / rho).square()
    var = (1 - rho.square()) / (rho * curv * w * w) * snr_term
    return var.sqrt()


def _box_sums(x: torch.Tensor, w: int) -> torch.Tensor:
    """Sums of every w x w sub-window of a batch of images (N, H, W) -> (N, H-w+1, W-w+1)."""
    ii = torch.nn.functional.pad(x.cumsum(1).cumsum(2), (1, 0, 1, 0))
    return ii[:, w:, w:] - ii[:, :-w, w:] - ii[:, w:, :-w] + ii[:, :-w, :-w]


def local_tables(
    image: torch.Tensor,
    energy_sizes: tuple[int, ...] = (),
    sum_sizes: tuple[int, ...] = (),
    block: tuple[int, int] = (256, 1024),
) -> tuple[dict[int, torch.Tensor], dict[int, torch.Tensor]]:
    """Local energies and box sums of every w x w window of a 2-D image, for several w at once.

    Energy: sqrt(sum of squared deviations from the window's mean); box sum: the sum of
    ``image - image.mean()``. Both come from one pair of double-precision summed-area tables
    per block of ``block`` output rows x columns (each block with its own mean removed), shared
    by every size, into float32 results: whole-strip float64 temporaries cost more in page
    faults than in arithmetic (13x slower on a 500 x 16000 strip) and held hundreds of MB, and
    float32 tables lose the energy of low-contrast windows under bright ones.
    """
    sizes = tuple(energy_sizes) + tuple(sum_sizes)
    out_e: dict[int, torch.Tensor] = {}
    out_s: dict[int, torch.Tensor] = {}
    height, width = image.shape
    for w in energy_sizes:
        out_e[w] = image.new_empty((max(height - w + 1, 0), max(width - w + 1, 0)))
    for w in sum_sizes:
        out_s[w] = image.new_empty((max(height - w + 1, 0), max(width - w + 1, 0)))
    if not sizes or image.numel() == 0:
        return out_e, out_s
    small, big = min(sizes), max(sizes)
    whole = image.double().mean() if sum_sizes else image.new_zeros((), dtype=torch.float64)
    for r0 in range(0, max(height - small + 1, 0), block[0]):
        r1 = min(height - small + 1, r0 + block[0])
        for c0 in range(0, max(width - small + 1, 0), block[1]):
            c1 = min(width - small + 1, c0 + block[1])
            x = image[r0 : r1 + big - 1, c0 : c1 + big - 1].double()
            mean = x.mean()
            x = x - mean
            ii1 = torch.nn.functional.pad(x.cumsum(0).cumsum(1), (1, 0, 1, 0))
            ii2 = None
            for w, dest in [(w, out_e) for w in energy_sizes] + [(w, out_s) for w in sum_sizes]:
                rr, cc = min(r1, height - w + 1) - r0, min(c1, width - w + 1) - c0
                if rr <= 0 or cc <= 0:
                    continue
                s1 = _box_at(ii1, w, rr, cc)
                if dest is out_s:
                    dest[w][r0 : r0 + rr, c0 : c0 + cc] = s1 + (mean - whole) * (w * w)
                    continue
                if ii2 is None:
                    ii2 = torch.nn.functional.pad((x * x).cumsum(0).cumsum(1), (1, 0, 1, 0))
                s2 = _box_at(ii2, w, rr, cc)
                dest[w][r0 : r0 + rr, c0 : c0 + cc] = (s2 - s1 * s1 / (w * w)).clamp_min(0).sqrt()
    return out_e, out_s


def _box_at(ii: torch.Tensor, w: int, rows: int, cols: int) -> torch.Tensor:
    """Sums of the w x w windows at the first rows x cols positions of a padded summed-area
    table ``ii``."""
    return (
        ii[w : w + rows, w : w + cols]
        - ii[:rows, w : w + cols]
        - ii[w : w + rows, :cols]
        + ii[:rows, :cols]
    )


def local_energy(image: torch.Tensor, w: int, block: tuple[int, int] = (256, 1024)) -> torch.Tensor:
    """sqrt(sum of squared deviations from the mean) of every w x w window of a 2-D image.

    Computed once per strip, so that each window's normalization at every lag is a lookup, not
    a recomputation (see :func:`local_tables`)."""
    return local_tables(image, (w,), (), block)[0][w]


def ncc_surface(
    templates: torch.Tensor, search: torch.Tensor, energy: torch.Tensor | None = None
) -> torch.Tensor:
    """Normalized cross-correlation of each template over its search area.

    The numerator is one FFT cross-correlation per window (the template is made zero-mean, so
    the search area's mean cancels); the denominator is the template norm times the local
    energy of the search area under each lag, from summed-area tables.

    Args:
        templates: (N, w, w) reference windows.
        search: (N, w + 2s, w + 2s) secondary windows centred on the same points.
        energy: optional (N, 2s + 1, 2s + 1) local energies of the search areas at each lag
            (see :func:`local_energy`); computed here when not given.

    Returns:
        (N, 2s + 1, 2s + 1) NCC values in [-1, 1]; 0 where a window has no contrast.
    """
    n, w, _ = templates.shape
    big = search.shape[-1]
    lags = big - w + 1
    t0 = templates - templates.mean(dim=(1, 2), keepdim=True)
    tnorm = torch.linalg.vector_norm(t0, dim=(1, 2))
    spec = torch.fft.rfft2(search) * torch.conj(torch.fft.rfft2(t0, s=(big, big)))
    # only the first `lags` rows and columns are wanted: inverse along rows, keep those rows,
    # then the real inverse along columns on them alone (the same numbers, 30% less work)
    corr = torch.fft.irfft(torch.fft.ifft(spec, dim=-2)[:, :lags], n=big, dim=-1)[:, :, :lags]
    if energy is None:
        s0 = (search - search.mean(dim=(1, 2), keepdim=True)).double()
        local_sum = _box_sums(s0, w)
        energy = (
            (_box_sums(s0 * s0, w) - local_sum.square() / (w * w))
            .clamp_min(0)
            .sqrt()
            .to(corr.dtype)
        )
    denom = energy * tnorm.view(n, 1, 1)
    eps = 1e-6 * denom.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return torch.where(denom > eps, corr / denom.clamp_min(1e-30), torch.zeros_like(corr))


def gaussian_or_parabolic(cm: torch.Tensor, c0: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
    """Sub-pixel vertex of three samples at -1, 0, +1: Gaussian fit, parabolic where log fails."""
    positive = (cm > 0) & (c0 > 0) & (cp > 0)
    lm, l0, lp = (torch.log(v.clamp_min(1e-12)) for v in (cm, c0, cp))
    g_den = lm - 2 * l0 + lp
    gauss = (lm - lp) / (
        2 * torch.where(g_den.abs() > 1e-12, g_den, torch.full_like(g_den, -1e-12))
    )
    p_den = cm - 2 * c0 + cp
    para = (cm - cp) / (2 * torch.where(p_den.abs() > 1e-12, p_den, torch.full_like(p_den, -1e-12)))
    delta = torch.where(positive & (g_den < 0), gauss, para)
    return delta.clamp(-1.0, 1.0)


def peak_offsets(surface: torch.Tensor, window: int = 0) -> PeakResult:
    """Integer peak of each NCC surface refined to sub-pixel with separable 3-point fits.

    The offset is returned relative to the centre lag, in pixels (rows down, columns right).
    A peak on the border of the search area cannot be refined and is flagged invalid: the true
    offset may lie outside the search range.
    """
    n, lags, _ = surface.shape
    s = (lags - 1) // 2
    flat = surface.reshape(n, -1)
    peak, idx = flat.max(dim=1)
    iy = torch.div(idx, lags, rounding_mode="floor")
    ix = idx - iy * lags
    inner = (iy > 0) & (iy < lags - 1) & (ix > 0) & (ix < lags - 1) & torch.isfinite(peak)
    iyc = iy.clamp(1, lags - 2)
    ixc = ix.clamp(1, lags - 2)
    b = torch.arange(n, device=surface.device)
    c0 = surface[b, iyc, ixc]
    dy = gaussian_or_parabolic(surface[b, iyc - 1, ixc], c0, surface[b, iyc + 1, ixc])
    dx = gaussian_or_parabolic(surface[b, iyc, ixc - 1], c0, surface[b, iyc, ixc + 1])
    offy = (iy - s).to(surface.dtype) + torch.where(inner, dy, torch.zeros_like(dy))
    offx = (ix - s).to(surface.dtype) + torch.where(inner, dx, torch.zeros_like(dx))
    noise = surface.reshape(n, -1).std(dim=1)
    w = window if window else 1
    sy = peak_sigma(surface[b, iyc - 1, ixc], c0, surface[b, iyc + 1, ixc], noise, w)
    sx = peak_sigma(surface[b, iyc, ixc - 1], c0, surface[b, iyc, ixc + 1], noise, w)
    return PeakResult(dy=offy, dx=offx, peak=peak, valid=inner, sigma_y=sy, sigma_x=sx)


def ncc_offsets(
    templates: torch.Tensor, search: torch.Tensor, energy: torch.Tensor | None = None
) -> PeakResult:
    """Sub-pixel offsets of a batch of templates in their search areas (see module doc)."""
    return peak_offsets(ncc_surface(templates, search, energy), templates.shape[-1])
