"""Compare a DEM with a reference DEM: metrics, a difference raster and an HTML report.

The DEM is resampled onto the reference's grid (cubic convolution) when the grids differ. The
report shows the metrics and the histogram of differences with a fitted normal curve (the
paper's Figure 6), as inline SVG so it needs no plotting library.
"""

from __future__ import annotations

import html
import math
import os

import numpy as np
from rasterio.enums import Resampling

from .dem_metrics import DemMetrics, compare_dems, metres_per_pixel
from .errors import GeohazardError
from .progress import Reporter
from .raster_io import check_output_path, inspect_raster, open_band, write_raster


def _histogram_svg(diff: np.ndarray, bins: int = 60, width: int = 640, height: int = 300) -> str:
    lo, hi = np.percentile(diff, [0.5, 99.5])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(np.clip(diff, lo, hi), bins=bins, range=(lo, hi))
    pad = 40
    cw, ch = width - 2 * pad, height - 2 * pad
    top = max(int(counts.max()), 1)
    bw = cw / bins
    bars = "".join(
        f'<rect x="{pad + i * bw:.1f}" y="{pad + ch - ch * c / top:.1f}" width="{bw * 0.95:.1f}" '
        f'height="{ch * c / top:.1f}" fill="#4a7ebb"/>'
        for i, c in enumerate(counts)
    )
    mu, sd = float(diff.mean()), float(diff.std()) or 1e-9
    xs = np.linspace(lo, hi, 200)
    pdf = (
        diff.size
        * (edges[1] - edges[0])
        * np.exp(-0.5 * ((xs - mu) / sd) ** 2)
        / (sd * math.sqrt(2 * math.pi))
    )
    pts = " ".join(
        f"{pad + cw * (x - lo) / (hi - lo):.1f},{pad + ch - ch * min(p / top, 1.2):.1f}"
        for x, p in zip(xs, pdf)
    )
    ticks = "".join(
        f'<text x="{pad + cw * (t - lo) / (hi - lo):.1f}" y="{height - 12}" font-size="11" '
        f'text-anchor="middle">{t:.3g}</text>'
        for t in np.linspace(lo, hi, 7)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="100%" height="100%" fill="white"/>{bars}'
        f'<polyline points="{pts}" fill="none" stroke="#c0392b" stroke-width="2"/>{ticks}'
        f'<text x="{width / 2}" y="20" font-size="13" text-anchor="middle">DEM - reference (m); '
        f"red: normal fit, mean {mu:.3f} m, sd {sd:.3f} m</text>"
        "</svg>"
    )


REPORT_LABELS = {
    "psnr_db": "PSNR (dB)",
    "ssim": "SSIM (0-1)",
    "rmse_m": "Elevation RMSE (m)",
    "mae_m": "Elevation MAE (m)",
    "bias_m": "Mean difference, DEM - reference (m)",
    "slope_rmse_deg": "Slope RMSE (degrees)",
    "valid_pixels": "Pixels compared",
}


def write_report(
    path: str, metrics: DemMetrics, diff: np.ndarray, dem_name: str, ref_name: str
) -> None:
    rows = "".join(
        f"<tr><td>{html.escape(REPORT_LABELS.get(k, k))}</td>"
        f"<td>{v if isinstance(v, int) else f'{v:.4g}'}</td></tr>"
        for k, v in metrics.as_dict().items()
    )
    text = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>DEM evaluation</title></head>"
        f"<body><h2>DEM evaluation</h2><p>DEM: {html.escape(dem_name)}<br>"
        f"Reference: {html.escape(ref_name)}</p>"
        "<table border='1' cellpadding='4'><tr><th>metric</th><th>value</th></tr>"
        f"{rows}</table><h3>Difference histogram</h3>{_histogram_svg(diff)}"
        "<p>PSNR uses the reference's elevation range as peak; slope by central differences in "
        "degrees.</p>"
        "</body></html>"
    )
    tmp = path + ".partial"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def evaluate_dem(
    dem_path: str,
    reference_path: str,
    difference_path: str | None = None,
    report_path: str | None = None,
    reporter: Reporter | None = None,
) -> DemMetrics:
    """Metrics of a DEM against a reference on the reference's grid; writes the optional outputs."""
    rep = reporter or Reporter()
    if difference_path:
        check_output_path(difference_path)
    if report_path and not report_path.lower().endswith((".html", ".htm")):
        raise GeohazardError(f"The report '{os.path.basename(report_path)}' must be an .html file.")
    ref_info = inspect_raster(reference_path)
    dem_info = inspect_raster(dem_path)
    for inf in (ref_info, dem_info):
        if inf.count != 1:
            raise GeohazardError(
                f"'{os.path.basename(inf.path)}' has {inf.count} bands; a DEM must have one band."
            )
    grid = ref_info.grid
    with open_band(ref_info, 1) as r:
        ref = r.read()
    rep.report(0.2)
    with open_band(dem_info, 1, grid, rep, role="evaluated", resampling=Resampling.cubic) as d:
        dem = d.read()
    rep.check_cancel()
    rep.report(0.4)
    if not np.isfinite(ref).any():
        raise GeohazardError("The reference DEM contains no valid elevation.")
    if not (np.isfinite(ref) & np.isfinite(dem)).any():
        raise GeohazardError("The DEM and the reference have no valid pixel in common.")
    geographic = bool(grid.crs is not None and grid.crs.is_geographic)
    dx, dy = metres_per_pixel(grid.pixel_size, geographic, (grid.bounds[1] + grid.bounds[3]) / 2)
    metrics = compare_dems(dem, ref, dx, dy)
    rep.report(0.8)
    diff = dem - ref
    if difference_path:
        write_raster(difference_path, diff[None].astype(np.float32), grid, ["DEM - reference (m)"])
    if report_path:
        write_report(
            report_path,
            metrics,
            diff[np.isfinite(diff)],
            os.path.basename(dem_path),
            os.path.basename(reference_path),
        )
    rep.report(1.0)
    return metrics
