"""Accuracy of a DEM against a reference DEM: PSNR, SSIM, elevation and slope RMSE.

PSNR uses the reference's elevation range (max - min of valid pixels) as the peak value, as is
usual for DEM super-resolution. Slopes are computed with central differences on the pixel size
in metres (degrees of a geographic CRS converted with the local radius of the WGS84 ellipsoid).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .raster_io import Grid


@dataclass(frozen=True)
class DemMetrics:
    """Errors of a DEM against a reference (valid pixels of both only)."""

    psnr_db: float
    ssim: float
    rmse_m: float
    mae_m: float
    bias_m: float
    slope_rmse_deg: float
    valid_pixels: int

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def metres_per_pixel(
    pixel_size: tuple[float, float], geographic: bool, latitude: float = 0.0
) -> tuple[float, float]:
    """Pixel width and height in metres (degrees converted at ``latitude`` when geographic)."""
    if not geographic:
        return pixel_size
    lat = math.radians(latitude)
    a, e2 = 6378137.0, 6.69437999014e-3
    w = 1 - e2 * math.sin(lat) ** 2
    m_per_deg_lat = math.pi / 180 * a * (1 - e2) / w**1.5
    m_per_deg_lon = math.pi / 180 * a * math.cos(lat) / math.sqrt(w)
    return pixel_size[0] * m_per_deg_lon, pixel_size[1] * m_per_deg_lat


def slope_degrees(dem: np.ndarray, dx_m: float, dy_m: float) -> np.ndarray:
    """Slope in degrees by central differences (NaN where a neighbour is NaN, and at edges)."""
    z = dem.astype(np.float64)
    slope = np.full(z.shape, np.nan)
    gx = (z[1:-1, 2:] - z[1:-1, :-2]) / (2 * dx_m)
    gy = (z[2:, 1:-1] - z[:-2, 1:-1]) / (2 * dy_m)
    slope[1:-1, 1:-1] = np.degrees(np.arctan(np.hypot(gx, gy)))
    return slope


def ssim_map(a: np.ndarray, b: np.ndarray, data_range: float, win: int = 7) -> np.ndarray:
    """Structural similarity map (Wang et al. 2004) with a ``win x win`` uniform window, K1 0.01,
    K2 0.03 and sample covariances: scikit-image's defaults, without needing scikit-image."""
    from scipy.ndimage import uniform_filter

    a = a.astype(np.float64)
    b = b.astype(np.float64)
    n = win * win
    cov_norm = n / (n - 1)
    ux, uy = uniform_filter(a, win), uniform_filter(b, win)
    vx = cov_norm * (uniform_filter(a * a, win) - ux * ux)
    vy = cov_norm * (uniform_filter(b * b, win) - uy * uy)
    vxy = cov_norm * (uniform_filter(a * b, win) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))


def compare_dems(dem: np.ndarray, reference: np.ndarray, dx_m: float, dy_m: float) -> DemMetrics:
    """Metrics of ``dem`` against ``reference`` (same shape, NaN = nodata)."""
    if dem.shape != reference.shape:
        raise ValueError(f"shapes differ: {dem.shape} vs {reference.shape}")
    valid = np.isfinite(dem) & np.isfinite(reference)
    n = int(valid.sum())
    if n == 0:
        raise ValueError("the DEM and the reference have no valid pixel in common")
    diff = dem[valid].astype(np.float64) - reference[valid].astype(np.float64)
    rmse = float(np.sqrt(np.mean(diff**2)))
    ref_v = reference[valid].astype(np.float64)
    peak = float(ref_v.max() - ref_v.min()) or 1.0
    psnr = float("inf") if rmse == 0 else 20 * math.log10(peak / rmse)
    fill = float(ref_v.mean())
    a = np.where(valid, dem, fill).astype(np.float64)
    b = np.where(valid, reference, fill).astype(np.float64)
    win = min(7, (min(a.shape) // 2) * 2 - 1)
    if win >= 3:
        pad = (win - 1) // 2  # border pixels, where the window leaves the raster, are left out
        inner = np.zeros_like(valid)
        inner[pad : a.shape[0] - pad, pad : a.shape[1] - pad] = True
        smap = ssim_map(a, b, peak, win)
        ssim = float(smap[valid & inner].mean()) if (valid & inner).any() else float("nan")
    else:
        ssim = float("nan")
    s1, s2 = slope_degrees(dem, dx_m, dy_m), slope_degrees(reference, dx_m, dy_m)
    sv = np.isfinite(s1) & np.isfinite(s2)
    slope_rmse = float(np.sqrt(np.mean((s1[sv] - s2[sv]) ** 2))) if sv.any() else float("nan")
    return DemMetrics(
        psnr, ssim, rmse, float(np.mean(np.abs(diff))), float(np.mean(diff)), slope_rmse, n
    )


def grid_pixel_m(grid: Grid) -> tuple[float, float]:
    """Pixel width and height of a grid in metres (at its centre latitude when geographic)."""
    geographic = grid.crs is not None and grid.crs.is_geographic
    lat = (grid.bounds[1] + grid.bounds[3]) / 2
    return metres_per_pixel(grid.pixel_size, bool(geographic), lat)
