"""Two SAR-like amplitude images of the same ground before and after a known motion.

The scene's mean brightness (reflectivity R, linear intensity) comes from a texture source
(textures.py); each look's speckle is a circular complex Gaussian field g blurred by a Gaussian
impulse response (band-limited, like focused SAR). The reference intensity is ``R * |g|^2``
averaged over looks. The secondary sees the ground moved by (dy, dx): R and g are evaluated at
the moved positions (quintic splines, exact for whole-pixel shifts and within about 0.2% for
sub-pixel shifts of the band-limited speckle, see warp.py); the speckle between the dates is
decorrelated as in interferometry, ``g2 = gamma * g(moved) + sqrt(1 - gamma^2) * g_new`` (so
intensity correlation is gamma^2), and the brightness may change smoothly between the dates
(wet snow, vegetation, soil moisture) by a log-normal factor. Amplitudes are sqrt(intensity).

What it is not: no phase history, no geometric distortion of the radar (layover, shadow are the
texture source's business), no sensor noise floor beyond the speckle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from . import warp

TRUNCATE = 4.0  # impulse response truncated at 4 sigma


@dataclass(frozen=True)
class SpeckleConfig:
    """How the two dates are imaged.

    Args:
        looks: independent looks averaged (1 for SLC amplitude, about 4-5 for Sentinel-1 GRD).
        coherence: complex correlation of the speckle between the dates, 0-1 (1: the same
            ground pattern, only moved; 0: unrelated speckle).
        psf_sigma: standard deviation of the Gaussian impulse response, pixels (speckle grain).
        change: standard deviation of the log brightness change between the dates.
        change_scale_px: correlation length of that change, pixels.
    """

    looks: int = 4
    coherence: float = 0.9
    psf_sigma: float = 0.8
    change: float = 0.0
    change_scale_px: float = 8.0

    def __post_init__(self) -> None:
        if not 1 <= self.looks <= 64:
            raise ValueError(f"looks must be 1-64, got {self.looks}")
        if not 0.0 <= self.coherence <= 1.0:
            raise ValueError(f"coherence must be within 0-1, got {self.coherence}")
        if not 0.3 <= self.psf_sigma <= 3.0:
            raise ValueError(f"psf_sigma must be within 0.3-3 px, got {self.psf_sigma}")
        if self.change < 0:
            raise ValueError(f"change must be >= 0, got {self.change}")


@dataclass
class DisplacementPair:
    """A simulated pair and its truth, all arrays of one (rows, cols) shape.

    Attributes:
        reference: amplitude of the first date, float32, NaN where nodata.
        secondary: amplitude of the second date, float32, NaN where nodata.
        dx: true displacement right (east on a north-up grid), pixels, per reference pixel.
        dy: true displacement down (south), pixels, per reference pixel.
        valid: True where the truth can be seen in the pair (see warp.consistent) and the ground
            has data in both images.
        kind: displacement kind (displacement_kinds.KINDS).
        source: name of the texture source.
        params: how the pair was drawn (field parameters, looks, coherence, ...).
    """

    reference: np.ndarray
    secondary: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    valid: np.ndarray
    kind: str = "custom"
    source: str = "custom"
    params: dict[str, float | str] = field(default_factory=dict)

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(reference, secondary, dx, dy, valid)."""
        return self.reference, self.secondary, self.dx, self.dy, self.valid


def _complex_speckle(shape: tuple[int, ...], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Band-limited circular complex Gaussian field with E|g|^2 = 1."""
    w = rng.standard_normal((2, *shape))
    re = ndimage.gaussian_filter(w[0], sigma, truncate=TRUNCATE, mode="wrap")
    im = ndimage.gaussian_filter(w[1], sigma, truncate=TRUNCATE, mode="wrap")
    delta = np.zeros(2 * int(TRUNCATE * sigma + 0.5) + 1)
    delta[len(delta) // 2] = 1.0
    k = ndimage.gaussian_filter1d(delta, sigma, truncate=TRUNCATE)
    norm = np.sqrt(2.0) * float((k**2).sum())  # E|g|^2 = 2 * (sum k^2)^2
    return (re + 1j * im) / norm


def _fill_nodata(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image with NaN replaced by the nearest valid value, nodata mask)."""
    bad = ~np.isfinite(image)
    if not bad.any():
        return image.astype(np.float64), bad
    if bad.all():
        raise ValueError("the reflectivity has no valid pixel")
    idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True)
    return image[tuple(idx)].astype(np.float64), bad


def simulate_pair(
    reflectivity: np.ndarray,
    dy: np.ndarray,
    dx: np.ndarray,
    config: SpeckleConfig | None = None,
    rng: np.random.Generator | None = None,
) -> DisplacementPair:
    """Reference and secondary amplitude of ``reflectivity`` moved by (dy, dx) pixels.

    Args:
        reflectivity: mean intensity of the ground at the first date (>= 0, NaN where nodata).
        dy: displacement down per reference pixel, pixels.
        dx: displacement right per reference pixel, pixels.
        config: speckle and change between the dates.
        rng: random generator (a fixed seed gives the same pair).

    Returns:
        The pair with its truth and validity mask (kind and source left as ``custom``).
    """
    cfg = config or SpeckleConfig()
    rng = rng or np.random.default_rng(0)
    if reflectivity.shape != dy.shape or dy.shape != dx.shape:
        raise ValueError("reflectivity, dy and dx must have the same shape")
    refl, nodata = _fill_nodata(reflectivity)
    refl = np.clip(refl, 0.0, None)
    inverse = warp.inverse_map(dy, dx)
    moved_refl = np.clip(warp.sample(refl, *inverse, order=3), 1e-6 * refl.mean(), None)
    if cfg.change > 0:
        noise = ndimage.gaussian_filter(rng.standard_normal(refl.shape), cfg.change_scale_px)
        moved_refl *= np.exp(cfg.change * noise / (noise.std() + 1e-12))
    ref_int = np.zeros(refl.shape)
    sec_int = np.zeros(refl.shape)
    fresh = np.sqrt(max(0.0, 1.0 - cfg.coherence**2))
    for _ in range(cfg.looks):
        g = _complex_speckle(refl.shape, cfg.psf_sigma, rng)
        ref_int += np.abs(g) ** 2
        g2 = cfg.coherence * warp.sample(g, *inverse)
        if fresh > 0:
            g2 = g2 + fresh * _complex_speckle(refl.shape, cfg.psf_sigma, rng)
        sec_int += np.abs(g2) ** 2
    reference = np.sqrt(refl * ref_int / cfg.looks).astype(np.float32)
    secondary = np.sqrt(moved_refl * sec_int / cfg.looks).astype(np.float32)
    valid = warp.consistent(dy, dx, inverse)
    if nodata.any():
        sec_nodata = warp.sample(nodata.astype(np.float64), *inverse, order=1) > 0.01
        reference[nodata] = np.nan
        secondary[sec_nodata] = np.nan
        rows, cols = warp.pixel_grid(dy.shape)
        at_target = warp.sample(sec_nodata.astype(np.float64), rows + dy, cols + dx, order=1)
        valid &= ~nodata & (at_target < 0.01)
    params: dict[str, float | str] = {
        "looks": float(cfg.looks),
        "coherence": cfg.coherence,
        "psf_sigma": cfg.psf_sigma,
        "change": cfg.change,
    }
    return DisplacementPair(
        reference, secondary, dx.astype(np.float32), dy.astype(np.float32), valid, params=params
    )
