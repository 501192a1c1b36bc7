"""Accuracy of a DEM against a reference DEM: PSNR, SSIM, elevation and slope RMSE.

PSNR uses the reference's elevation range (max - min of valid pixels) as the peak value, as is
usual for DEM super-resolution; over a flat reference it is undefined (NaN, with a note saying
why), as are SSIM and slope RMSE on rasters too small for their windows. Slopes are computed
with central differences on the pixel size in metres (degrees of a geographic CRS converted with
the local radius of the WGS84 ellipsoid).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..io.raster_io import Grid


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
    notes: tuple[str, ...] = ()  # why a metric is undefined (NaN), in plain words

    def as_dict(self) -> dict[str, float]:
        """The numbers (notes left out), floats rounded to 4 decimals."""
        return {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in asdict(self).items()
            if k != "notes"
        }


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


@dataclass
class ReferenceRange:
    """First pass over the pixels valid in both DEMs: count and range of the reference.

    The range is PSNR's peak and SSIM's data range; the mean fills nodata for SSIM.
    """

    n: int = 0
    lo: float = math.inf
    hi: float = -math.inf
    total: float = 0.0

    def add(self, dem: np.ndarray, reference: np.ndarray) -> None:
        valid = np.isfinite(dem) & np.isfinite(reference)
        if not valid.any():
            return
        ref_v = reference[valid].astype(np.float64)
        self.n += int(ref_v.size)
        self.lo = min(self.lo, float(ref_v.min()))
        self.hi = max(self.hi, float(ref_v.max()))
        self.total += float(ref_v.sum())

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    @property
    def peak(self) -> float:
        """The reference's elevation range (0 for a flat reference)."""
        return self.hi - self.lo if self.n else 0.0


class MetricSums:
    """Second pass: sums of every metric, strip by strip, equal to a whole-raster computation.

    Strips are read with :attr:`halo` extra rows above and below (the SSIM window's reach and the
    slope's neighbours), so memory is bounded by the strip size whatever the raster's size.

    Args:
        shape: (rows, cols) of the whole raster.
        ref_range: the first pass (:class:`ReferenceRange`).
        dx_m, dy_m: pixel size in metres.
    """

    def __init__(
        self, shape: tuple[int, int], ref_range: ReferenceRange, dx_m: float, dy_m: float
    ) -> None:
        self.shape = shape
        self.ref = ref_range
        self.dx, self.dy = dx_m, dy_m
        self.win = min(7, (min(shape) // 2) * 2 - 1)  # 7, or smaller on tiny rasters
        self.pad = (self.win - 1) // 2 if self.win >= 3 else 0
        self.halo = max(self.pad, 1)
        self.n = 0
        self.sum_d = self.sum_d2 = self.sum_abs = 0.0
        self.slope_sq, self.slope_n = 0.0, 0
        self.ssim_sum, self.ssim_n = 0.0, 0

    def add(self, dem: np.ndarray, reference: np.ndarray, top: int, own: slice) -> np.ndarray:
        """Add a strip; returns DEM - reference for its own rows (NaN where either is nodata).

        Args:
            dem, reference: the strip with its halo, full raster width, NaN = nodata.
            top: raster row of the strip's first row (halo included).
            own: the rows of the strip that belong to it (the rest is halo).
        """
        rows, cols = self.shape
        valid = np.isfinite(dem) & np.isfinite(reference)
        diff = (dem.astype(np.float64) - reference.astype(np.float64))[own]
        v_own = valid[own]
        d = diff[v_own]
        self.n += int(d.size)
        self.sum_d += float(d.sum())
        self.sum_d2 += float(np.dot(d, d))
        self.sum_abs += float(np.abs(d).sum())
        s1 = slope_degrees(dem, self.dx, self.dy)[own]
        s2 = slope_degrees(reference, self.dx, self.dy)[own]
        sv = np.isfinite(s1) & np.isfinite(s2)  # halo rows give own rows their neighbours
        self.slope_sq += float(((s1[sv] - s2[sv]) ** 2).sum())
        self.slope_n += int(sv.sum())
        g_top = top + (own.start or 0)  # raster row of the first own row
        if self.win >= 3 and self.ref.n:
            fill = self.ref.mean
            a = np.where(valid, dem, fill).astype(np.float64)
            b = np.where(valid, reference, fill).astype(np.float64)
            smap = ssim_map(a, b, self.ssim_range, self.win)[own]
            g_rows = np.arange(smap.shape[0]) + g_top
            inner_r = (g_rows >= self.pad) & (g_rows < rows - self.pad)
            inner = np.zeros(smap.shape, bool)
            inner[inner_r, self.pad : cols - self.pad] = True
            keep = v_own & inner
            self.ssim_sum += float(smap[keep].sum())
            self.ssim_n += int(keep.sum())
        return np.where(v_own, diff, np.nan).astype(np.float32)

    @property
    def ssim_range(self) -> float:
        """SSIM's data range: the reference's range, or 1 m for a flat reference."""
        return self.ref.peak if self.ref.peak > 0 else 1.0

    def result(self) -> DemMetrics:
        """The metrics, with a note for every metric that is undefined and why."""
        rows, cols = self.shape
        if self.n == 0:
            raise ValueError("the DEM and the reference have no valid pixel in common")
        rmse = math.sqrt(self.sum_d2 / self.n)
        notes = []
        peak = self.ref.peak
        if peak <= 0:
            psnr = math.nan
            notes.append(
                f"PSNR is undefined: the reference is flat (every compared pixel is at "
                f"{self.ref.lo:.6g} m), so it has no elevation range to serve as the peak."
            )
        else:
            psnr = math.inf if rmse == 0 else 20 * math.log10(peak / rmse)
        if self.win < 3:
            ssim = math.nan
            notes.append(
                f"SSIM is undefined: it needs at least 3 x 3 pixels and the raster is "
                f"{cols} x {rows}."
            )
        elif self.ssim_n == 0:
            ssim = math.nan
            notes.append(
                f"SSIM is undefined: no pixel valid in both DEMs lies at least {self.pad} "
                f"pixel(s) from the raster's edge (its {self.win} x {self.win} window must fit)."
            )
        else:
            ssim = self.ssim_sum / self.ssim_n
            if peak <= 0:
                notes.append("SSIM used a data range of 1 m because the reference is flat.")
        if self.slope_n:
            slope_rmse = math.sqrt(self.slope_sq / self.slope_n)
        else:
            slope_rmse = math.nan
            notes.append(
                "Slope RMSE is undefined: slope needs a pixel whose four neighbours are valid "
                f"in both DEMs, away from the edge, and the {cols} x {rows} raster has none."
            )
        return DemMetrics(
            psnr,
            ssim,
            rmse,
            self.sum_abs / self.n,
            self.sum_d / self.n,
            slope_rmse,
            self.n,
            tuple(notes),
        )


def compare_dems(dem: np.ndarray, reference: np.ndarray, dx_m: float, dy_m: float) -> DemMetrics:
    """Metrics of ``dem`` against ``reference`` (same shape, NaN = nodata), in memory.

    The same computation as the streamed :func:`~.dem_evaluation.evaluate_dem`, in one strip.
    """
    if dem.shape != reference.shape:
        raise ValueError(f"shapes differ: {dem.shape} vs {reference.shape}")
    ref_range = ReferenceRange()
    ref_range.add(dem, reference)
    sums = MetricSums((dem.shape[0], dem.shape[1]), ref_range, dx_m, dy_m)
    sums.add(dem, reference, 0, slice(0, dem.shape[0]))
    return sums.result()


def grid_pixel_m(grid: Grid) -> tuple[float, float]:
    """Pixel width and height of a grid in metres (at its centre latitude when geographic)."""
    geographic = grid.crs is not None and grid.crs.is_geographic
    lat = (grid.bounds[1] + grid.bounds[3]) / 2
    return metres_per_pixel(grid.pixel_size, bool(geographic), lat)
