"""SAR-like amplitude images from a DEM, with multi-look speckle and a known displacement.

What this is: a radiometric terrain model (brightness from the local incidence angle of a
side-looking radar, times a smooth random land-cover texture) and fully developed speckle
(circular complex Gaussian scatterers blurred by a Gaussian impulse response, averaged over
``looks``). The secondary image is the reference's ground-attached scene moved by a known
displacement field, with a fraction of the speckle decorrelated. What it is not: a SAR
focusing simulator (no layover/shadow geometry, no phase, no orbit model).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .. import sar_geometry
from ..sar_geometry import AcquisitionGeometry


def local_incidence_cos(
    dem: np.ndarray, pixel_size: float, incidence_deg: float = 39.0, heading_deg: float = 190.0
) -> np.ndarray:
    """cos(local incidence angle) of a right-looking radar over a north-up DEM (metres)."""
    rows = np.ones(dem.shape[0])
    geometry = AcquisitionGeometry(incidence_deg=incidence_deg, heading_deg=heading_deg)
    return sar_geometry.local_incidence_cos(dem, pixel_size * rows, -pixel_size * rows, geometry)


def backscatter(
    dem: np.ndarray, pixel_size: float, seed: int, incidence_deg: float = 39.0
) -> np.ndarray:
    """Mean radar brightness (linear intensity) of a DEM with a land-cover texture."""
    rng = np.random.default_rng(seed)
    cos_loc = np.clip(local_incidence_cos(dem, pixel_size, incidence_deg), 0.02, 1.0)
    texture = ndimage.gaussian_filter(rng.standard_normal(dem.shape), 6.0)
    texture = np.exp(0.6 * texture / (texture.std() + 1e-12))
    return (cos_loc**2 * texture).astype(np.float32)


def _speckle_intensity(
    shape: tuple[int, ...], rng: np.random.Generator, psf_sigma: float
) -> np.ndarray:
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    z = ndimage.gaussian_filter(z.real, psf_sigma) + 1j * ndimage.gaussian_filter(z.imag, psf_sigma)
    inten = np.abs(z) ** 2
    return inten / inten.mean()


def _inverse_map(
    dy: np.ndarray, dx: np.ndarray, iterations: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """For every secondary pixel q, the reference position p with p + d(p) = q (fixed point)."""
    rows, cols = np.mgrid[0 : dy.shape[0], 0 : dy.shape[1]].astype(np.float64)
    pr, pc = rows - dy, cols - dx
    for _ in range(iterations):
        ddy = ndimage.map_coordinates(dy, [pr, pc], order=1, mode="nearest")
        ddx = ndimage.map_coordinates(dx, [pr, pc], order=1, mode="nearest")
        pr, pc = rows - ddy, cols - ddx
    return pr, pc


def speckled_pair(
    reflectivity: np.ndarray,
    dy: np.ndarray,
    dx: np.ndarray,
    looks: int = 4,
    coherence: float = 0.9,
    psf_sigma: float = 0.8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and secondary amplitude images with a known displacement (pixels).

    Args:
        reflectivity: mean intensity of the scene (e.g. from :func:`backscatter`).
        dy, dx: displacement in pixels of each reference pixel (see displacement.py).
        looks: number of independent looks averaged (multi-look speckle).
        coherence: fraction of each look's speckle that is the same ground pattern in both
            images (1 = perfectly coherent, 0 = no speckle correlation).
        psf_sigma: Gaussian impulse response in pixels (makes speckle band-limited).
        seed: random seed; the same seed gives the same pair.

    Returns:
        (reference, secondary) amplitude (square root of multi-looked intensity), float32.
    """
    rng = np.random.default_rng(seed)
    pr, pc = _inverse_map(dy.astype(np.float64), dx.astype(np.float64))
    moved_refl = ndimage.map_coordinates(
        reflectivity.astype(np.float64), [pr, pc], order=3, mode="reflect"
    )
    ref = np.zeros(reflectivity.shape)
    sec = np.zeros(reflectivity.shape)
    for _ in range(looks):
        ground = reflectivity * _speckle_intensity(reflectivity.shape, rng, psf_sigma)
        ref += ground
        moved = ndimage.map_coordinates(ground, [pr, pc], order=3, mode="reflect")
        fresh = moved_refl * _speckle_intensity(reflectivity.shape, rng, psf_sigma)
        sec += coherence * moved + (1.0 - coherence) * fresh
    ref = np.sqrt(np.clip(ref / looks, 0, None))
    sec = np.sqrt(np.clip(sec / looks, 0, None))
    return ref.astype(np.float32), sec.astype(np.float32)
