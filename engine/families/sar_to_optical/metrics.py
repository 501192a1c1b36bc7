"""Translation metrics of the paper's Table 1: MSE, SSIM and PSNR, globally and per distortion.

Images are in 0..1. MSE and PSNR (``10 log10(1 / MSE)``) are computed over the valid pixels of
a region; SSIM is the mean of the SSIM map (Gaussian window, sigma 1.5, per band, averaged over
bands) over the region's pixels, so a region is scored in the context of its surroundings.
"""

from __future__ import annotations

import math

import numpy as np

from ...sar.sar_geometry import FORESHORTENING, LAYOVER, SHADOW, UNDISTORTED

REGIONS = {
    "global": None,
    "foreshortening": FORESHORTENING,
    "layover": LAYOVER,
    "shadow": SHADOW,
    "undistorted": UNDISTORTED,
}


def ssim_map(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    """SSIM map averaged over bands, (rows, cols), for (bands, rows, cols) images in 0..1."""
    from skimage.metrics import structural_similarity

    maps = []
    for p, t in zip(prediction, target):
        _, m = structural_similarity(
            t.astype(np.float64), p.astype(np.float64), data_range=1.0,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True,
        )  # fmt: skip
        maps.append(m)
    return np.mean(maps, axis=0)


class RegionScores:
    """Accumulates squared errors and SSIM over many images, per region (see REGIONS)."""

    def __init__(self) -> None:
        self.sq = {k: 0.0 for k in REGIONS}
        self.ssim = {k: 0.0 for k in REGIONS}
        self.n = {k: 0 for k in REGIONS}

    def add(
        self, prediction: np.ndarray, target: np.ndarray, valid: np.ndarray, classes: np.ndarray
    ) -> None:
        """One image: (3, H, W) prediction and target in 0..1, valid (H, W), classes (H, W)."""
        err = np.mean((prediction.astype(np.float64) - target) ** 2, axis=0)
        smap = ssim_map(prediction, target)
        for name, cls in REGIONS.items():
            region = valid if cls is None else valid & (classes == cls)
            count = int(region.sum())
            if count:
                self.sq[name] += float(err[region].sum())
                self.ssim[name] += float(smap[region].sum())
                self.n[name] += count

    def result(self) -> dict[str, dict[str, float]]:
        """``{region: {"mse", "ssim", "psnr_db", "pixels"}}`` (NaN for an empty region)."""
        out = {}
        for name in REGIONS:
            n = self.n[name]
            mse = self.sq[name] / n if n else math.nan
            out[name] = {
                "mse": mse,
                "ssim": self.ssim[name] / n if n else math.nan,
                "psnr_db": 10 * math.log10(1.0 / mse) if n and mse > 0 else math.nan,
                "pixels": float(n),
            }
        return out
