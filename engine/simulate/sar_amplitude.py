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

from ..sar import sar_geometry
from ..sar.sar_geometry import AcquisitionGeometry
from .warp import inverse_map


def local_incidence_cos(
    dem: np.ndarray, pixel_size: float, incidence_deg: float = 39.0, heading_deg: float = 190.0
) -> np.ndarray:
    """cos(local incidence angle) of a right-looking radar over a north-up DEM (metres)."""
    rows = np.ones(dem.shape[0])
    geometry = AcquisitionGeometry(incidence_deg=incidence_deg, heading_deg=heading_deg)
    return sar_geometry.local_incidence_cos(dem, pixel_size * rows, -pixel_size * rows, geometry)


def backscatter(
    dem: np.ndarray,
    pixel_size: float,
    seed: int,
    incidence_deg: float = 39.0,
    heading_deg: float = 190.0,
    texture_scale_px: float = 6.0,
    texture_strength: float = 0.6,
) -> np.ndarray:
    """Mean radar brightness (linear intensity) of a DEM with a land-cover texture.

    Args:
        dem: elevations in metres on a north-up grid of square pixels.
        pixel_size: pixel size in metres.
        seed: seed of the land-cover texture.
        incidence_deg: radar incidence angle on flat ground, degrees.
        heading_deg: flight direction, degrees clockwise from north (190: descending pass).
        texture_scale_px: correlation length of the land-cover texture, pixels.
        texture_strength: standard deviation of the log land-cover brightness.
    """
    rng = np.random.default_rng(seed)
    cos_loc = np.clip(local_incidence_cos(dem, pixel_size, incidence_deg, heading_deg), 0.02, 1.0)
    texture = ndimage.gaussian_filter(rng.standard_normal(dem.shape), texture_scale_px)
    texture = np.exp(texture_strength * texture / (texture.std() + 1e-12))
    return (cos_loc**2 * texture).astype(np.float32)


def _speckle_intensity(
    shape: tuple[int, ...], rng: np.random.Generator, psf_sigma: float
) -> np.ndarray:
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    z = ndimage.gaussian_filter(z.real, psf_sigma) + 1j * ndimage.gaussian_filter(z.imag, psf_sigma)
    inten = np.abs(z) ** 2
    return inten / inten.mean()


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
    pr, pc = inverse_map(dy, dx, iterations=6)
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
