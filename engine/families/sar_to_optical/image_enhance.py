"""Contrast enhancement of translated images (SAR-to-optical paper): Laplacian, Wiener.

Bralet et al. (IGARSS 2024, section 4.2.3) sharpen the blurry translations by convolving them
with the Laplacian filter, or by Wiener deconvolution with a 9 x 9 Gaussian kernel of standard
deviation 29 (nearly a 9 x 9 box). Both act per band on images in 0..255 and are clipped back to
that range. The Wiener filter's noise-to-signal ratio is not given; 0.01 is ours.
"""

from __future__ import annotations

import numpy as np

ENHANCEMENTS = ("none", "laplacian", "wiener")

WIENER_SIZE = 9
WIENER_SIGMA = 29.0
WIENER_NSR = 0.01
PAD = 16  # reflected margin before the FFT, against wrap-around at tile borders


def laplacian_sharpen(image: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """``image - strength * Laplacian(image)`` per band (4-neighbour kernel), clipped 0..255."""
    from scipy import ndimage

    out = np.empty_like(image, dtype=np.float32)
    for i, band in enumerate(image):
        out[i] = band - strength * ndimage.laplace(band.astype(np.float64), mode="reflect")
    return np.clip(out, 0.0, 255.0)


def gaussian_kernel(size: int = WIENER_SIZE, sigma: float = WIENER_SIGMA) -> np.ndarray:
    """Normalised ``size`` x ``size`` Gaussian kernel."""
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def wiener_deblur(
    image: np.ndarray,
    size: int = WIENER_SIZE,
    sigma: float = WIENER_SIGMA,
    nsr: float = WIENER_NSR,
) -> np.ndarray:
    """Wiener deconvolution of each band by a Gaussian kernel, clipped 0..255."""
    bands, rows, cols = image.shape
    padded = np.pad(image.astype(np.float64), ((0, 0), (PAD, PAD), (PAD, PAD)), mode="reflect")
    kernel = np.zeros(padded.shape[1:])
    k = gaussian_kernel(size, sigma)
    kernel[:size, :size] = k
    kernel = np.roll(kernel, (-(size // 2), -(size // 2)), axis=(0, 1))  # centred at (0, 0)
    h = np.fft.rfft2(kernel)
    g = h.conj() / (np.abs(h) ** 2 + nsr)
    out = np.fft.irfft2(np.fft.rfft2(padded) * g[None], s=padded.shape[1:])
    return np.clip(out[:, PAD : PAD + rows, PAD : PAD + cols], 0.0, 255.0).astype(np.float32)


def enhance(image: np.ndarray, method: str) -> np.ndarray:
    """Apply ``none``, ``laplacian`` or ``wiener`` to a (bands, rows, cols) image in 0..255."""
    if method == "none":
        return image
    if method == "laplacian":
        return laplacian_sharpen(image)
    if method == "wiener":
        return wiener_deblur(image)
    raise ValueError(f"enhancement must be one of {', '.join(ENHANCEMENTS)}, not {method!r}")
