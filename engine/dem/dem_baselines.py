"""Classical upsamplings of a low-resolution DEM, measured against a reference DEM.

What a user compares a super-resolved DEM with: the cubic spline with back-projection
(:mod:`.spline_upsample`, the strongest classical method), GDAL cubic convolution (what
``gdalwarp -r cubic`` gives) and nearest neighbour, each computed from the low-resolution DEM
the super-resolved one was made from, on the reference's grid. The spline is written in strips
(with a halo longer than its kernels) to a temporary GeoTIFF that is deleted afterwards, so
memory stays bounded whatever the raster's size.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.output_files import check_text_output_path
from ..io.raster_io import Grid, RasterWriter, check_output_path, inspect_raster, open_band
from .dem_evaluation import BASELINE_LABELS, BASELINES, evaluate_dem, metrics_against
from .dem_metrics import DemMetrics
from .spline_upsample import spline_bp_upsample, spline_kernels

LABELS = BASELINE_LABELS
MAX_SCALE = 16
STRIP_PIXELS = 1_000_000  # low-resolution pixels per strip


def baseline_scale(low: Grid, reference: Grid, low_name: str) -> int:
    """The whole number of reference pixels per low-resolution pixel (refused otherwise)."""
    if (low.crs is None) != (reference.crs is None) or (
        low.crs is not None and reference.crs is not None and low.crs != reference.crs
    ):
        raise GeohazardError(
            f"The low-resolution DEM '{low_name}' is not in the reference's CRS; reproject it "
            "first (the baselines upsample it by a whole factor on its own grid)."
        )
    ratios = [a / b for a, b in zip(low.pixel_size, reference.pixel_size)]
    scale = round(ratios[0])
    if scale < 2 or scale > MAX_SCALE or any(abs(r - scale) > 1e-6 * scale for r in ratios):
        shown = ", ".join(f"{r:.4g}" for r in ratios)
        raise GeohazardError(
            f"The low-resolution DEM's pixels must be a whole number (2 to {MAX_SCALE}) of the "
            f"reference's pixels wide and high; they are {shown} times as large."
        )
    return scale


def write_spline_raster(
    low_path: str, output_path: str, scale: int, reporter: Reporter | None = None
) -> Grid:
    """Upsample a one-band DEM by ``scale`` with the back-projected spline into a GeoTIFF."""
    from ..io.raster_io import output_grid

    rep = reporter or Reporter()
    info = inspect_raster(low_path)
    grid = info.grid
    out = output_grid(grid, scale)
    halo = (spline_kernels(scale).shape[1] - 1) // 2 + 2
    rows = max(1, STRIP_PIXELS // max(grid.width, 1))
    with open_band(info, 1) as reader, RasterWriter(output_path, out, ["elevation (m)"]) as w:
        for r0 in range(0, grid.height, rows):
            rep.check_cancel()
            r1 = min(grid.height, r0 + rows)
            a, b = max(0, r0 - halo), min(grid.height, r1 + halo)
            strip = reader.read(Window(0, a, grid.width, b - a)).astype(np.float64)
            hr = spline_bp_upsample(strip, scale)[(r0 - a) * scale : (r1 - a) * scale]
            w.write(hr[None], Window(0, r0 * scale, out.width, (r1 - r0) * scale))
            rep.report(r1 / grid.height)
    return out


def baseline_metrics(
    low_path: str,
    reference_path: str,
    reporter: Reporter | None = None,
) -> dict[str, DemMetrics]:
    """Metrics of the three classical upsamplings of ``low_path`` against the reference."""
    rep = reporter or Reporter()
    low = inspect_raster(low_path)
    ref = inspect_raster(reference_path)
    if low.count != 1:
        raise GeohazardError(
            f"'{os.path.basename(low_path)}' has {low.count} bands; a DEM must have one band."
        )
    scale = baseline_scale(low.grid, ref.grid, os.path.basename(low_path))
    rep.info(
        f"Classical baselines: the low-resolution DEM upsampled x{scale} by cubic spline with "
        "back-projection, GDAL cubic and nearest neighbour."
    )
    results: dict[str, DemMetrics] = {}
    with tempfile.TemporaryDirectory(prefix="geohazard-baseline-") as tmp:
        spline_path = os.path.join(tmp, "spline_bp.tif")
        write_spline_raster(low_path, spline_path, scale, rep.step(0.0, 0.4))
        results["spline_bp"] = metrics_against(
            spline_path, reference_path, Resampling.cubic, rep.step(0.4, 0.6)
        )
    results["gdal_cubic"] = metrics_against(
        low_path, reference_path, Resampling.cubic, rep.step(0.6, 0.8)
    )
    results["nearest"] = metrics_against(
        low_path, reference_path, Resampling.nearest, rep.step(0.8, 1.0)
    )
    return results


def evaluate_dem_with_baselines(
    dem_path: str,
    reference_path: str,
    low_resolution_path: str | None = None,
    difference_path: str | None = None,
    report_path: str | None = None,
    reporter: Reporter | None = None,
) -> tuple[DemMetrics, dict[str, DemMetrics]]:
    """:func:`.dem_evaluation.evaluate_dem`, plus, when ``low_resolution_path`` is given, the
    metrics of its classical upsamplings against the same reference, also in the report. The
    outputs are checked before anything is computed."""
    rep = reporter or Reporter()
    if not low_resolution_path:
        metrics = evaluate_dem(dem_path, reference_path, difference_path, report_path, rep)
        return metrics, {}
    if difference_path:
        check_output_path(difference_path)
    if report_path:
        check_text_output_path(report_path, (".html", ".htm"), "report")
    baselines = baseline_metrics(low_resolution_path, reference_path, rep.step(0.0, 0.5))
    metrics = evaluate_dem(
        dem_path,
        reference_path,
        difference_path,
        report_path,
        rep.step(0.5, 1.0),
        baselines=baselines,
    )
    return metrics, baselines


def format_baselines(metrics: DemMetrics, baselines: dict[str, DemMetrics]) -> list[str]:
    """One line per method (the evaluated DEM first): elevation and slope RMSE, PSNR, SSIM."""

    def fmt(v: float, spec: str) -> str:
        return "undefined" if math.isnan(v) else format(v, spec)

    rows = [("Evaluated DEM", metrics)] + [(LABELS[k], baselines[k]) for k in BASELINES]
    return [
        f"{name}: RMSE {m.rmse_m:.3f} m, slope RMSE {fmt(m.slope_rmse_deg, '.3f')} deg, "
        f"PSNR {fmt(m.psnr_db, '.2f')} dB, SSIM {fmt(m.ssim, '.4f')}"
        for name, m in rows
    ]
