"""Compare a DEM with a reference DEM: metrics, a difference raster and an HTML report.

The DEM is resampled onto the reference's grid (cubic convolution) when the grids differ. Both
rasters are read in strips (two passes: the reference's range, then every metric), so memory is
bounded whatever their size. The report shows the metrics, why any is undefined, and the
histogram of differences with a fitted normal curve (the paper's Figure 6), as inline SVG so it
needs no plotting library. The difference raster and the report are written all or none.
"""

from __future__ import annotations

import html
import math
import os
import zlib

import numpy as np
from rasterio.enums import Resampling
from rasterio.windows import Window

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.dem_values import ElevationGuard, check_dem_size, impossible_mask
from ..io.input_checks import dem_valid, require_valid_data
from ..io.output_files import (
    PlannedOutput,
    StagedOutput,
    check_free_space,
    check_text_output_path,
    commit_all,
    discard_all,
    write_bytes_staged,
)
from ..io.raster_io import (
    RasterWriter,
    check_output_path,
    inspect_raster,
    open_band,
    planned_raster,
)
from ..io.run_estimate import announce_time, measure_seconds
from .dem_metrics import DemMetrics, MetricSums, ReferenceRange, metres_per_pixel


def _histogram_svg(
    diff: np.ndarray,
    bins: int = 60,
    width: int = 640,
    height: int = 300,
    mu: float | None = None,
    sd: float | None = None,
) -> str:
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
    mu = float(diff.mean()) if mu is None else mu
    sd = (float(diff.std()) if sd is None else sd) or 1e-9
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
MIN_SIDE = 4  # px along each side of both DEMs: SSIM's smallest (3 x 3 px) window fits inside
STRIP_PIXELS = 1_000_000  # pixels per strip: about 0.2 GB of working memory for the metrics
SAMPLE_CAP = 2_000_000  # differences kept for the report's histogram (every k-th beyond)
REPORT_MAX_BYTES = 72 * 1024  # about 10 KiB of text and one SVG histogram; file names add little


def _format_value(v: float | int) -> str:
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "undefined (see below)"
    return f"{v:.4g}"


BASELINES = ("spline_bp", "gdal_cubic", "nearest")
BASELINE_LABELS = {
    "spline_bp": "Cubic spline with back-projection",
    "gdal_cubic": "GDAL cubic convolution (gdalwarp -r cubic)",
    "nearest": "Nearest neighbour",
}


def _baselines_html(metrics: DemMetrics, baselines: dict[str, DemMetrics] | None) -> str:
    if not baselines:
        return ""

    keys = ("rmse_m", "slope_rmse_deg", "psnr_db", "ssim", "mae_m")
    head = "".join(f"<th>{html.escape(REPORT_LABELS[k])}</th>" for k in keys)
    rows = [("Evaluated DEM", metrics)] + [(BASELINE_LABELS[k], baselines[k]) for k in BASELINES]
    body = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{_format_value(getattr(m, k))}</td>" for k in keys)
        + "</tr>"
        for name, m in rows
    )
    return (
        "<h3>Classical baselines from the low-resolution DEM</h3>"
        "<p>The low-resolution DEM upsampled onto the reference grid by each classical method "
        "(lower RMSE is better; the spline with back-projection keeps every block's mean equal "
        "to its low-resolution pixel).</p>"
        f"<table border='1' cellpadding='4'><tr><th>method</th>{head}</tr>{body}</table>"
    )


def report_html(
    metrics: DemMetrics,
    sample: np.ndarray,
    dem_name: str,
    ref_name: str,
    every: int = 1,
    baselines: dict[str, DemMetrics] | None = None,
) -> str:
    """The HTML report: metrics, notes on undefined ones, the classical baselines when given,
    histogram of differences."""
    rows = "".join(
        f"<tr><td>{html.escape(REPORT_LABELS.get(k, k))}</td><td>{_format_value(v)}</td></tr>"
        for k, v in metrics.as_dict().items()
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in metrics.notes)
    sampled = (
        f"<p>Histogram of {sample.size} differences (every {every}th of "
        f"{metrics.valid_pixels} pixels).</p>"
        if every > 1
        else ""
    )
    mu, sd = metrics.bias_m, math.sqrt(max(metrics.rmse_m**2 - metrics.bias_m**2, 0.0))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<title>DEM evaluation</title></head><body>"
        f"<h2>DEM evaluation</h2><p>DEM: {html.escape(dem_name)}<br>"
        f"Reference: {html.escape(ref_name)}</p>"
        "<table border='1' cellpadding='4'><tr><th>metric</th><th>value</th></tr>"
        f"{rows}</table>"
        + (f"<h3>Undefined metrics</h3><ul>{notes}</ul>" if notes else "")
        + _baselines_html(metrics, baselines)
        + f"<h3>Difference histogram</h3>{sampled}{_histogram_svg(sample, mu=mu, sd=sd)}"
        "<p>PSNR uses the reference's elevation range as peak; slope by central differences "
        "in degrees.</p></body></html>"
    )


def _strips(height: int, width: int, strip_pixels: int) -> list[tuple[int, int]]:
    rows = max(1, strip_pixels // max(width, 1))
    return [(r0, min(height, r0 + rows)) for r0 in range(0, height, rows)]


class _Pair:
    """The reference and the DEM (resampled onto the reference grid), read strip by strip with
    impossible elevations turned into nodata."""

    def __init__(  # type: ignore[no-untyped-def]
        self, ref_info, dem_info, rep: Reporter, resampling: Resampling = Resampling.cubic
    ) -> None:
        self.grid = ref_info.grid
        self.ref_guard = ElevationGuard.for_path(ref_info.path)
        self.dem_guard = ElevationGuard.for_path(dem_info.path)
        self._ref = open_band(ref_info, 1)
        try:
            self._dem = open_band(
                dem_info, 1, self.grid, rep, role="evaluated", resampling=resampling
            )
        except BaseException:
            self._ref.close()
            raise

    def read(
        self, r0: int, r1: int, counted: tuple[slice, slice] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        win = Window(0, r0, self.grid.width, r1 - r0)
        ref = self._ref.read(win)
        dem = self._dem.read(win)
        if counted is None:
            ref[impossible_mask(ref)] = np.nan
            dem[impossible_mask(dem)] = np.nan
            return dem, ref
        return self.dem_guard.clean(dem, counted), self.ref_guard.clean(ref, counted)

    def close(self) -> None:
        self._dem.close()
        self._ref.close()


def _estimate_time(pair: _Pair, rep: Reporter, dx: float, dy: float) -> None:
    grid = pair.grid
    rows = max(8, min(grid.height, 65_536 // max(grid.width, 1)))
    rows = min(rows, grid.height)

    def sample() -> None:
        dem, ref = pair.read(0, rows)
        rr = ReferenceRange()
        rr.add(dem, ref)
        MetricSums((dem.shape[0], dem.shape[1]), rr, dx, dy).add(dem, ref, 0, slice(0, rows))
        zlib.compress((dem - ref).astype(np.float32).tobytes(), 6)

    seconds = measure_seconds(sample, repeats=1)
    total = seconds * grid.width * grid.height / (rows * grid.width) * 1.3  # + the first pass
    announce_time(
        rep, total, f"rate measured just now on the first {rows} rows of both DEMs, two passes"
    )


def metrics_against(
    dem_path: str,
    reference_path: str,
    resampling: Resampling,
    reporter: Reporter | None = None,
    strip_pixels: int = STRIP_PIXELS,
) -> DemMetrics:
    """Metrics only (no output) of a DEM read on the reference's grid with ``resampling``."""
    rep = reporter or Reporter()
    ref_info = inspect_raster(reference_path)
    grid = ref_info.grid
    geographic = bool(grid.crs is not None and grid.crs.is_geographic)
    dx, dy = metres_per_pixel(grid.pixel_size, geographic, (grid.bounds[1] + grid.bounds[3]) / 2)
    pair = _Pair(ref_info, inspect_raster(dem_path), Reporter(), resampling)
    try:
        metrics, _, _ = _two_passes(pair, None, rep, dx, dy, strip_pixels, [])
    finally:
        pair.close()
    return metrics


def evaluate_dem(
    dem_path: str,
    reference_path: str,
    difference_path: str | None = None,
    report_path: str | None = None,
    reporter: Reporter | None = None,
    strip_pixels: int = STRIP_PIXELS,
    baselines: dict[str, DemMetrics] | None = None,
) -> DemMetrics:
    """Metrics of a DEM against a reference on the reference's grid; writes the optional outputs.

    Both outputs are checked before any compute, streamed (memory bounded by ``strip_pixels``
    whatever the rasters' size) and written all or none: nothing is written after a cancel or
    a failure. Values no DEM can hold become nodata (:mod:`.dem_values`), with a warning.
    ``baselines`` (metrics of classical upsamplings, :mod:`.dem_baselines`) are listed in the
    report when given.
    """
    rep = reporter or Reporter()
    if difference_path:
        check_output_path(difference_path)
    if report_path:
        check_text_output_path(report_path, (".html", ".htm"), "report")
    ref_info = inspect_raster(reference_path)
    dem_info = inspect_raster(dem_path)
    for inf in (ref_info, dem_info):
        if inf.count != 1:
            raise GeohazardError(
                f"'{os.path.basename(inf.path)}' has {inf.count} bands; a DEM must have one band."
            )
    for inf in (ref_info, dem_info):
        check_dem_size(
            inf.grid.width,
            inf.grid.height,
            os.path.basename(inf.path),
            MIN_SIDE,
            "every metric is then defined: slopes take 3 x 3 px and SSIM a window of at least "
            "3 x 3 px inside the DEM",
        )
    grid = ref_info.grid
    planned = []
    if difference_path:
        planned.append(planned_raster(difference_path, grid, 1))
    if report_path:
        planned.append(PlannedOutput(report_path, REPORT_MAX_BYTES, "HTML report"))
    check_free_space(planned, rep)
    require_valid_data(ref_info, 1, "reference", rep, dem_valid)
    require_valid_data(dem_info, 1, "evaluated", rep, dem_valid)
    geographic = bool(grid.crs is not None and grid.crs.is_geographic)
    dx, dy = metres_per_pixel(grid.pixel_size, geographic, (grid.bounds[1] + grid.bounds[3]) / 2)
    pair = _Pair(ref_info, dem_info, rep)
    staged: list[StagedOutput] = []
    try:
        _estimate_time(pair, rep, dx, dy)
        metrics, sample, every = _two_passes(
            pair, difference_path, rep, dx, dy, strip_pixels, staged
        )
        if report_path:
            text = report_html(
                metrics,
                sample,
                os.path.basename(dem_path),
                os.path.basename(reference_path),
                every,
                baselines,
            )
            rep.check_cancel()
            staged.append(write_bytes_staged(report_path, text.encode("utf-8")))
        rep.check_cancel()  # the last moment a cancel is honoured: nothing is written before
        commit_all(staged)
        staged.clear()
    finally:
        discard_all(staged)
        pair.close()
    pair.ref_guard.warn(rep)
    pair.dem_guard.warn(rep)
    for note in metrics.notes:
        rep.warning(note)
    rep.report(1.0)
    return metrics


def _two_passes(
    pair: _Pair,
    difference_path: str | None,
    rep: Reporter,
    dx: float,
    dy: float,
    strip_pixels: int,
    staged: list[StagedOutput],
) -> tuple[DemMetrics, np.ndarray, int]:
    """First pass: the reference's range over common pixels; second pass: every metric, the
    difference raster and a bounded sample of differences for the histogram."""
    grid = pair.grid
    h, w = grid.height, grid.width
    strips = _strips(h, w, strip_pixels)
    ref_range = ReferenceRange()
    first = rep.step(0.0, 0.3)
    for i, (r0, r1) in enumerate(strips):
        rep.check_cancel()
        dem, ref = pair.read(r0, r1)
        ref_range.add(dem, ref)
        first.report((i + 1) / len(strips))
    if ref_range.n == 0:
        raise GeohazardError("The DEM and the reference have no valid pixel in common.")
    sums = MetricSums((h, w), ref_range, dx, dy)
    every = max(1, math.ceil(ref_range.n / SAMPLE_CAP))
    samples: list[np.ndarray] = []
    seen = 0
    second = rep.step(0.3, 1.0)
    writer = (
        RasterWriter(difference_path, grid, ["DEM - reference (m)"], defer_commit=True)
        if difference_path
        else None
    )
    if writer is not None:
        writer.__enter__()
    try:
        for i, (r0, r1) in enumerate(strips):
            rep.check_cancel()
            a, b = max(0, r0 - sums.halo), min(h, r1 + sums.halo)
            own = slice(r0 - a, r1 - a)
            dem, ref = pair.read(a, b, counted=(own, slice(None)))
            diff = sums.add(dem, ref, a, own)
            if writer is not None:
                writer.write(diff, Window(0, r0, w, r1 - r0))
            values = diff[np.isfinite(diff)]
            idx = np.arange(seen, seen + values.size)
            samples.append(values[idx % every == 0])
            seen += values.size
            second.report((i + 1) / len(strips))
        rep.check_cancel()
    except BaseException as exc:
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if writer is not None:
        writer.__exit__(None, None, None)
        staged.append(writer.verified_output())
    return sums.result(), np.concatenate(samples) if samples else np.zeros(0, np.float32), every
