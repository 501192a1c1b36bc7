"""Multi-window NCC offset tracking of two rasters, streamed in strips of rows.

Reads the reference and secondary band strip by strip (the secondary resampled onto the
reference grid when needed), correlates every window size on one shared grid of window centres,
combines the sizes, removes outliers and writes east/north/magnitude/quality in metres.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from rasterio.windows import Window

from ..device import run_scope
from ..errors import GeohazardError
from ..input_checks import refuse_identical, require_valid_data
from ..oom import run_with_oom_retry
from ..output_files import StagedOutput, check_free_space, commit_all, discard_all
from ..parallel import batch_workers, run_batches
from ..progress import Reporter
from ..raster_io import (
    BandReader,
    Grid,
    RasterWriter,
    check_band,
    check_output_path,
    inspect_raster,
    open_band,
    planned_raster,
)
from ..run_estimate import announce_time, check_memory, measure_seconds
from ..run_options import RunOptions
from .bands import OUTPUT_BANDS, VELOCITY_BANDS
from .combine import combine_sizes
from .deform import PASSES as DEFORM_PASSES
from .deform import refine_strip, spline_coefficients
from .extras import StableCorrection, correct_stable, interval_days, prior_pixels, velocity_bands
from .ncc import local_energy, ncc_offsets
from .outliers import FILTERS, apply_filter
from .pixel_offsets import PixelOffsets
from .prefilter import PREFILTERS, apply_prefilter
from .uncertainty import combined_sigma
from .units import pixel_offsets_to_metres, pixel_sigmas_to_metres
from .window_grid import CentreGrid, windows

MAX_NODATA_FRACTION = 0.05


@dataclass
class OffsetTrackingConfig:
    """Parameters of :func:`track_offsets` (names follow the Processing parameters).

    Args:
        window_sizes: square window sizes in pixels, even, at least 8 (default 32, 64, 128).
        step: distance between window centres in pixels (the output pixel size).
        search: largest offset searched in each direction, pixels.
        band: band of both rasters to correlate (1-based).
        min_quality: peak NCC below which a window's result is discarded.
        outlier_filter: one of ``none``, ``2-sigma``, ``median``, ``2-sigma + median``.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        chunk_size: windows correlated per batch (128 was fastest on the 2-core CPU; halved on OOM).
        prefilter: ``none``, ``wallis`` or ``log`` (engine/offsets/prefilter.py).
        reference_date, secondary_date: acquisition dates; with both, velocities can be written.
        stable_areas: GeoJSON geometries (in the reference CRS) of ground known not to move.
        prior_offsets: raster of expected east, north offsets (m) in the reference CRS; each
            window searches around its prior.
        deform_passes: window-deformation passes after the first correlation (deform.py);
            0 keeps the first pass's 3-point peak fits (pixel locking, for comparisons only).
    """

    window_sizes: tuple[int, ...] = (32, 64, 128)
    step: int = 16
    search: int = 16
    band: int = 1
    min_quality: float = 0.1
    outlier_filter: str = "2-sigma"
    device: str = "auto"
    chunk_size: int = 128
    prefilter: str = "none"
    reference_date: dt.date | None = None
    secondary_date: dt.date | None = None
    stable_areas: list[dict] | None = None
    prior_offsets: str | None = None
    deform_passes: int = DEFORM_PASSES


@dataclass
class OffsetTrackingResult:
    output: str
    per_size_output: str | None
    grid: Grid
    window_sizes: tuple[int, ...]
    valid_fraction: float
    outliers_removed: int
    device: str
    velocity_output: str | None = None
    stable: StableCorrection | None = None


def parse_window_sizes(text: str | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Parse ``"32,64,128"`` into sorted unique sizes, with a clear error for bad values."""
    items = text.replace(";", ",").split(",") if isinstance(text, str) else list(text)
    sizes = []
    for item in items:
        item_s = str(item).strip()
        if not item_s:
            continue
        try:
            size = int(item_s)
        except ValueError:
            raise GeohazardError(
                f"Window size '{item_s}' is not a whole number of pixels."
            ) from None
        if size < 8 or size % 2:
            raise GeohazardError(
                f"Window size {size} must be an even number of pixels, at least 8."
            )
        sizes.append(size)
    if not sizes:
        raise GeohazardError("Give at least one window size, e.g. 32,64,128.")
    return tuple(sorted(set(sizes)))


def _validate(config: OffsetTrackingConfig) -> None:
    if config.step < 1:
        raise GeohazardError("STEP must be at least 1 pixel.")
    if config.search < 1:
        raise GeohazardError("SEARCH must be at least 1 pixel.")
    if config.prefilter not in PREFILTERS:
        raise GeohazardError(
            f"Unknown pre-filter '{config.prefilter}'; use one of {', '.join(PREFILTERS)}."
        )
    if config.outlier_filter not in FILTERS:
        raise GeohazardError(
            f"Unknown outlier filter '{config.outlier_filter}'; use one of {FILTERS}."
        )


def _fill_nan(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    bad = ~torch.isfinite(a)
    if bad.all():
        return torch.zeros_like(a), bad.float()
    fill = a[~bad].mean()
    return torch.where(bad, fill, a), bad.float()


def _bad_fraction(
    bad: torch.Tensor, top: int, left: int, size: int, step: int, ni: int, nj: int
) -> torch.Tensor:
    """Fraction of nodata pixels in each window (zeros at once when the strip has none)."""
    if not bool(bad.any()):
        return torch.zeros((ni, nj), device=bad.device)
    return windows(bad, top, left, size, step, ni, nj).mean(dim=(2, 3))


def _correlate_strip(
    ref: tuple[torch.Tensor, torch.Tensor],
    sec: tuple[torch.Tensor, torch.Tensor],
    top: int,
    rows: tuple[int, int],
    grid: CentreGrid,
    size: int,
    cols: tuple[int, int],
    chunk: int,
    out: PixelOffsets,
    rep: Reporter,
    done: list[int],
    total: int,
    pool: ThreadPoolExecutor | None,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Correlate one window size for centre rows [rows) and columns [cols) of a strip.

    ``ref`` and ``sec`` are (image with nodata filled, nodata mask) pairs of the strip.
    ``prior``: whole-pixel (rows, columns) shifts on the centre grid; each search area is moved
    by its window's shift (kept inside the strip) and the shift is added to the offset found.
    """
    (i0, i1), (j0, j1) = rows, cols
    if i1 <= i0 or j1 <= j0:
        return
    h, s, step = size // 2, grid.search, grid.step
    r_first = grid.first_row + i0 * step - top
    c_first = grid.first_col + j0 * step
    ni, nj = i1 - i0, j1 - j0
    (ref_f, ref_bad), (sec_f, sec_bad) = ref, sec
    t_view = windows(ref_f, r_first - h, c_first - h, size, step, ni, nj)
    s_view = windows(sec_f, r_first - h - s, c_first - h - s, size + 2 * s, step, ni, nj)
    t_bad = _bad_fraction(ref_bad, r_first - h, c_first - h, size, step, ni, nj)
    s_bad = _bad_fraction(sec_bad, r_first - h - s, c_first - h - s, size + 2 * s, step, ni, nj)
    energy = local_energy(sec_f, size)
    e_view = windows(energy, r_first - h - s, c_first - h - s, 2 * s + 1, step, ni, nj)
    rows_per_chunk = max(1, chunk // nj)
    span = size + 2 * s

    def shifted(a: int, b: int) -> tuple[torch.Tensor, ...]:
        """Search areas, energies and nodata shares moved by the prior, with the shifts used."""
        if prior is None:
            raise ValueError("shifted windows need a prior")
        py = torch.from_numpy(prior[0][i0 + a : i0 + b, j0:j1]).to(sec_f.device).long()
        px = torch.from_numpy(prior[1][i0 + a : i0 + b, j0:j1]).to(sec_f.device).long()
        base_r = (r_first - h - s + torch.arange(a, b, device=py.device) * step)[:, None]
        base_c = (c_first - h - s + torch.arange(nj, device=py.device) * step)[None, :]
        want_r, want_c = (base_r + py).reshape(-1), (base_c + px).reshape(-1)
        tops = want_r.clamp(0, sec_f.shape[0] - span)
        lefts = want_c.clamp(0, sec_f.shape[1] - span)
        used_y = tops - base_r.expand(b - a, nj).reshape(-1)
        used_x = lefts - base_c.expand(b - a, nj).reshape(-1)
        ar = torch.arange(span, device=py.device)
        rr, cc = tops[:, None, None] + ar[None, :, None], lefts[:, None, None] + ar[None, None, :]
        lag = torch.arange(2 * s + 1, device=py.device)
        er = tops[:, None, None] + lag[None, :, None]
        ec = lefts[:, None, None] + lag[None, None, :]
        # a search area the prior moves off the image has no data there: the window is dropped
        bad = torch.where(
            (tops == want_r) & (lefts == want_c),
            sec_bad[rr, cc].mean(dim=(1, 2)),
            torch.ones_like(tops, dtype=sec_bad.dtype),
        )
        return sec_f[rr, cc], energy[er, ec], bad, used_y, used_x

    def job(a: int, b: int) -> int:
        if prior is None:
            search_areas = s_view[a:b].reshape(-1, span, span)
            energies = e_view[a:b].reshape(-1, 2 * s + 1, 2 * s + 1)
            sec_share = s_bad[a:b].reshape(-1)
        else:
            search_areas, energies, sec_share, used_y, used_x = shifted(a, b)
        res = ncc_offsets(t_view[a:b].reshape(-1, size, size), search_areas, energies)
        if prior is not None:
            res.dy = res.dy + used_y.to(res.dy.dtype)
            res.dx = res.dx + used_x.to(res.dx.dtype)
        ok = (
            res.valid
            & (t_bad[a:b].reshape(-1) <= MAX_NODATA_FRACTION)
            & (sec_share <= MAX_NODATA_FRACTION)
        )
        nan = torch.full_like(res.dy, float("nan"))
        block = (slice(i0 + a, i0 + b), slice(j0, j1))
        out.dy[size][block] = torch.where(ok, res.dy, nan).reshape(b - a, nj).cpu().numpy()
        out.dx[size][block] = torch.where(ok, res.dx, nan).reshape(b - a, nj).cpu().numpy()
        out.quality[size][block] = torch.where(ok, res.peak, nan).reshape(b - a, nj).cpu().numpy()
        if res.sigma_y is not None and res.sigma_x is not None:
            out.sigma_y[size][block] = res.sigma_y.reshape(b - a, nj).cpu().numpy()
            out.sigma_x[size][block] = res.sigma_x.reshape(b - a, nj).cpu().numpy()
        return (b - a) * nj

    def on_done(units: int) -> None:
        done[0] += units
        rep.report(done[0] / max(total, 1))

    jobs = [partial(job, a, min(ni, a + rows_per_chunk)) for a in range(0, ni, rows_per_chunk)]
    run_batches(jobs, pool, rep, on_done)


def correlate(
    ref_reader: BandReader,
    sec_reader: BandReader,
    image: Grid,
    sizes: tuple[int, ...],
    step: int,
    search: int,
    device: torch.device,
    chunk: int,
    reporter: Reporter,
    strip_pixels: int = 8_000_000,
    prefilter: str = "none",
    prior: tuple[np.ndarray, np.ndarray] | None = None,
    passes: int = DEFORM_PASSES,
) -> PixelOffsets:
    """Pixel offsets for every window size on one centre grid, reading strips of rows.

    Each strip holds about ``strip_pixels`` pixels of each image (plus the windows' reach above
    and below), about 0.5 GB of working memory at the default whatever the raster's size.
    ``prefilter`` is applied to both strips; ``prior`` gives whole-pixel (rows, columns)
    shifts on the centre grid around which each window searches. ``passes``: window-deformation
    passes after the first correlation (deform.py; 0 keeps the first pass's 3-point fits).
    """
    grid = CentreGrid.for_image(image.height, image.width, sizes[0], step, search)
    out = PixelOffsets(grid, sizes)
    for size in sizes:
        for arr in (out.dy, out.dx, out.quality, out.sigma_y, out.sigma_x):
            arr[size] = np.full((grid.rows, grid.cols), np.nan, np.float32)
    ranges = {
        size: (
            grid.valid_range(grid.rows, grid.first_row, size, image.height),
            grid.valid_range(grid.cols, grid.first_col, size, image.width),
        )
        for size in sizes
    }
    # every window is visited by the correlation and each deformation pass
    total = (1 + passes) * sum((r[1] - r[0]) * (c[1] - c[0]) for r, c in ranges.values())
    done = [0]

    def on_done(units: int) -> None:
        done[0] += units
        reporter.report(done[0] / max(total, 1))

    reach = sizes[-1] // 2 + search
    if prior is not None:
        reach += int(np.abs(prior[0]).max(initial=0))
    # strips of about strip_pixels pixels, so memory is bounded whatever the raster's width
    centres_per_strip = max(1, (strip_pixels // max(image.width, 1) - 2 * reach) // step)
    starts = list(range(0, grid.rows, centres_per_strip))

    def read_strip(i0: int, count: bool) -> tuple[int, int, tuple, tuple]:
        """(i1, top, (reference, nodata), (secondary, nodata)) of the strip of centre rows from
        i0: read, nodata filled and pre-filtered once per strip, shared by all sizes."""
        i1 = min(grid.rows, i0 + centres_per_strip)
        top = max(0, grid.first_row + i0 * step - reach)
        bottom = min(image.height, grid.first_row + (i1 - 1) * step + reach)
        win = Window(0, top, image.width, bottom - top)
        ref = torch.from_numpy(ref_reader.read(win)).to(device)
        sec = torch.from_numpy(sec_reader.read(win)).to(device)
        if count:
            out.valid_pixels["reference"] += int(torch.isfinite(ref).sum())
            out.valid_pixels["secondary"] += int(torch.isfinite(sec).sum())
        ref_img, ref_bad = _fill_nan(ref)
        sec_img, sec_bad = _fill_nan(sec)
        ref_pair = apply_prefilter(ref_img, prefilter), ref_bad
        return i1, top, ref_pair, (apply_prefilter(sec_img, prefilter), sec_bad)

    with batch_workers(device) as pool:
        kept = None  # a single strip stays in memory for the deformation passes
        for i0 in starts:
            reporter.check_cancel()  # before reading a strip, which can take seconds and GBs
            strip = read_strip(i0, count=True)
            i1, top, ref_pair, sec_pair = strip
            for size in sizes:
                (ra, rb), cols = ranges[size]
                rows = (max(i0, ra), min(i1, rb))
                _correlate_strip(
                    ref_pair,
                    sec_pair,
                    top,
                    rows,
                    grid,
                    size,
                    cols,
                    chunk,
                    out,
                    reporter,
                    done,
                    total,
                    pool,
                    prior,
                )
            if len(starts) == 1:
                kept = strip
        # window deformation (deform.py): each pass deforms every strip by the whole field found
        # before it (strips read again when there are several), so strips do not change results
        coeffs = None
        for _ in range(passes):
            before = {size: (out.dy[size].copy(), out.dx[size].copy()) for size in sizes}
            for i0 in starts:
                reporter.check_cancel()
                i1, top, ref_pair, sec_pair = kept or read_strip(i0, count=False)
                if coeffs is None or kept is None:
                    coeffs = spline_coefficients(sec_pair[0])
                for size in sizes:
                    (ra, rb), cols = ranges[size]
                    rows = (max(i0, ra), min(i1, rb))
                    refine_strip(
                        ref_pair[0],
                        coeffs,
                        top,
                        rows,
                        cols,
                        grid,
                        size,
                        chunk,
                        out,
                        before[size],
                        (ra, rb),
                        pool,
                        reporter,
                        on_done,
                    )
    return out


def _warn_if_unreliable(
    dy: np.ndarray,
    dx: np.ndarray,
    quality: np.ndarray,
    matched: int,
    removed: int,
    search: int,
    rep: Reporter,
) -> None:
    """Warn when the result looks like noise: weak peaks, offsets piling up at the search limit
    (motion larger than SEARCH, or images that do not show the same ground) or many outliers."""
    ok = np.isfinite(dy) & np.isfinite(dx)
    if matched == 0 or not ok.any():
        return
    median_q = float(np.nanmedian(quality[ok]))
    near_limit = float((np.maximum(np.abs(dy[ok]), np.abs(dx[ok])) > 0.75 * search).mean())
    problems = []
    if median_q < 0.2:
        problems.append(f"the median peak NCC is only {median_q:.2f}")
    if near_limit > 0.25:
        problems.append(
            f"{100 * near_limit:.0f}% of offsets lie near the search limit of {search} px"
        )
    if removed > 0.25 * matched:
        problems.append(f"{100 * removed / matched:.0f}% of matches were outliers")
    if problems:
        rep.warning(
            "The offsets look unreliable: "
            + "; ".join(problems)
            + ". Check that both images show the same ground in the same band, that the motion "
            "is smaller than SEARCH, or try larger windows."
        )


def _usable_sizes(
    sizes: tuple[int, ...], search: int, image: Grid, rep: Reporter
) -> tuple[int, ...]:
    short = min(image.width, image.height)
    usable = tuple(w for w in sizes if w + 2 * search <= short)
    if not usable:
        raise GeohazardError(
            f"The raster is {image.width} x {image.height} px, smaller than the smallest window "
            f"({sizes[0]} px) plus twice the search distance ({search} px): it needs at least "
            f"{sizes[0] + 2 * search} px on each side. Use smaller windows or a smaller search."
        )
    dropped = [w for w in sizes if w not in usable]
    if dropped:
        rep.warning(
            f"Window sizes {dropped} do not fit in the {image.width} x {image.height} px raster "
            "and were skipped."
        )
    return usable


def _working_memory(centres: CentreGrid, sizes: tuple[int, ...]) -> int:
    """Peak bytes of a run: float32 offset grids (3 per size, combined grids, the outlier
    filter's 3 x 3 neighbourhoods, output bands) plus the strips of both images (about 0.5 GB)."""
    cells = centres.rows * centres.cols
    return cells * 4 * (3 * len(sizes) + 36) + 512 * 1024**2


def _estimate_time(
    centres: CentreGrid, sizes: tuple[int, ...], image: Grid, device: torch.device, rep: Reporter
) -> None:
    """Log the expected time from the NCC rate measured just now on this device, per size."""
    total, n = 0.0, 64
    for size in sizes:
        (ra, rb) = centres.valid_range(centres.rows, centres.first_row, size, image.height)
        (ca, cb) = centres.valid_range(centres.cols, centres.first_col, size, image.width)
        count = (rb - ra) * (cb - ca)
        if not count:
            continue
        gen = torch.Generator().manual_seed(0)
        s = centres.search
        t = torch.rand((n, size, size), generator=gen).to(device)
        a = torch.rand((n, size + 2 * s, size + 2 * s), generator=gen).to(device)

        def run(t: torch.Tensor = t, a: torch.Tensor = a) -> None:
            ncc_offsets(t, a).dy.cpu()

        total += measure_seconds(run, repeats=1) / n * count
    announce_time(
        rep,
        total,
        f"NCC rate measured just now on {n} windows of each size on {device}; reading and "
        "writing come on top",
    )


def track_offsets(
    reference: str,
    secondary: str,
    output: str,
    config: OffsetTrackingConfig | None = None,
    reporter: Reporter | None = None,
    per_size_output: str | None = None,
    options: RunOptions | None = None,
    velocity_output: str | None = None,
) -> OffsetTrackingResult:
    """Offset tracking of ``secondary`` against ``reference``; writes a 4-band GeoTIFF.

    Bands: east offset (m), north offset (m), magnitude (m), quality (peak NCC, 0-1), on the grid
    of window centres (pixel size = STEP reference pixels), NaN where no reliable match was
    found. ``per_size_output``, when given, receives east/north/quality per window size before
    combination and outlier removal (the "multi-kernel" offsets). ``options``: this run's
    device and thread count (default: ``config.device``, threads unchanged).
    ``velocity_output``, when given, receives the same six bands in m/yr (needs both dates).
    Bands 5-6 are the calibrated east/north 1-sigma (engine/offsets/uncertainty.py); with
    ``config.stable_areas`` the median offset over stable ground is removed first.
    """
    cfg = config or OffsetTrackingConfig()
    rep = reporter or Reporter()
    _validate(cfg)
    sizes = parse_window_sizes(cfg.window_sizes)
    check_output_path(output)
    if per_size_output:
        check_output_path(per_size_output)
    days = interval_days(cfg.reference_date, cfg.secondary_date)
    if velocity_output:
        if days is None:
            raise GeohazardError(
                "Velocities need both REFERENCE_DATE and SECONDARY_DATE (the acquisition dates)."
            )
        check_output_path(velocity_output)
    ref_info = inspect_raster(reference)
    sec_info = inspect_raster(secondary)
    if os.path.abspath(output) in (os.path.abspath(reference), os.path.abspath(secondary)):
        raise GeohazardError(
            "The output would overwrite an input raster; choose another file name."
        )
    image = ref_info.grid
    sizes = _usable_sizes(sizes, cfg.search, image, rep)
    check_band(ref_info, cfg.band)
    check_band(sec_info, cfg.band)
    refuse_identical(ref_info, sec_info, cfg.band, rep)
    centres = CentreGrid.for_image(image.height, image.width, sizes[0], cfg.step, cfg.search)
    out_grid = centres.output_grid(image)
    planned = [planned_raster(output, out_grid, len(OUTPUT_BANDS))]
    if per_size_output:
        planned.append(planned_raster(per_size_output, out_grid, 3 * len(sizes)))
    if velocity_output:
        planned.append(planned_raster(velocity_output, out_grid, len(VELOCITY_BANDS)))
    check_free_space(planned, rep)
    check_memory(
        _working_memory(centres, sizes),
        f"the offsets of {len(sizes)} window size(s) on a {out_grid.width} x "
        f"{out_grid.height} grid of window centres",
        "use a larger STEP (the output has one pixel per STEP x STEP input pixels), fewer "
        "window sizes, or clip the images to the area of interest.",
        rep,
    )
    require_valid_data(ref_info, cfg.band, "reference", rep)
    require_valid_data(sec_info, cfg.band, "secondary", rep)
    prior = None
    if cfg.prior_offsets:
        py, px = prior_pixels(cfg.prior_offsets, image, centres.output_grid(image))
        prior = np.rint(py).astype(np.int64), np.rint(px).astype(np.int64)
        rep.info(
            f"Prior offsets: each window searches around its prior (up to "
            f"{int(np.abs(prior[0]).max(initial=0))} px in rows, "
            f"{int(np.abs(prior[1]).max(initial=0))} px in columns)."
        )
    with run_scope(options or RunOptions(device=cfg.device), rep) as device:
        _estimate_time(centres, sizes, image, device, rep)
        with (
            open_band(ref_info, cfg.band, None, rep, role="reference") as ref_reader,
            open_band(sec_info, cfg.band, image, rep, role="secondary") as sec_reader,
        ):
            work = rep.step(0.0, 0.95)
            pixel = run_with_oom_retry(
                lambda chunk: correlate(
                    ref_reader,
                    sec_reader,
                    image,
                    sizes,
                    cfg.step,
                    cfg.search,
                    device,
                    chunk,
                    work,
                    prefilter=cfg.prefilter,
                    prior=prior,
                    passes=cfg.deform_passes,
                ),
                cfg.chunk_size,
                8,
                rep,
                what="batch of windows",
            )
        for role, path in (("reference", reference), ("secondary", secondary)):
            if pixel.valid_pixels[role] == 0:
                raise GeohazardError(
                    f"The {role} raster '{os.path.basename(path)}' is all nodata in band {cfg.band}"
                    + (" over the reference area." if role == "secondary" else ".")
                )
        for size in sizes:
            low = pixel.quality[size] < cfg.min_quality
            for arr in (pixel.dy[size], pixel.dx[size], pixel.quality[size]):
                arr[low] = np.nan
        if all(not np.isfinite(pixel.quality[w]).any() for w in sizes):
            raise GeohazardError(
                "No window found a reliable match: the inputs may be mostly nodata, featureless, "
                "or displaced by more than the search distance "
                f"({cfg.search} px). Check the bands and try a larger SEARCH."
            )
        dy, dx, quality = combine_sizes(pixel)
        matched = int(np.isfinite(dy).sum())
        removed = apply_filter(dy, dx, quality, cfg.outlier_filter)
        if removed:
            rep.info(
                f"Outlier filter ({cfg.outlier_filter}) removed {removed} of {dy.size} points."
            )
        ry, rx = (dy - prior[0], dx - prior[1]) if prior is not None else (dy, dx)
        _warn_if_unreliable(ry, rx, quality, matched, removed, cfg.search, rep)
        sig_y, sig_x = combined_sigma(pixel, dy, dx)
        east, north = pixel_offsets_to_metres(dy, dx, image, out_grid, rep)
        sig_e, sig_n = pixel_sigmas_to_metres(sig_y, sig_x, image, out_grid)
        bands = np.stack([east, north, np.hypot(east, north), quality, sig_e, sig_n])
        bands[:, ~(np.isfinite(east) & np.isfinite(north))] = np.nan
        bands = bands.astype(np.float32)
        stable = None
        if cfg.stable_areas:
            stable = correct_stable(bands, cfg.stable_areas, out_grid, rep)
        tags = {
            "GEOHAZARD_ALGORITHM": "offsettracking",
            "WINDOW_SIZES": ",".join(map(str, sizes)),
            "STEP_PX": str(cfg.step),
            "SEARCH_PX": str(cfg.search),
            "OUTLIER_FILTER": cfg.outlier_filter,
            "CONVENTION": (
                "offset of the secondary relative to the reference; east and north positive"
            ),
            "REFERENCE": os.path.basename(reference),
            "SECONDARY": os.path.basename(secondary),
            "PREFILTER": cfg.prefilter,
        }
        if cfg.reference_date and cfg.secondary_date:
            tags["REFERENCE_DATE"] = cfg.reference_date.isoformat()
            tags["SECONDARY_DATE"] = cfg.secondary_date.isoformat()
        if stable is not None and stable.rmse is not None:
            tags["STABLE_SHIFT_EAST_M"] = f"{stable.east:.4f}"
            tags["STABLE_SHIFT_NORTH_M"] = f"{stable.north:.4f}"
            tags["STABLE_RMSE_M"] = f"{stable.rmse:.4f}"
        rep.check_cancel()
        staged = []  # the outputs of a run are written all or none
        try:
            if per_size_output:
                staged.append(_write_per_size(per_size_output, pixel, image, out_grid, tags))
            if velocity_output and days is not None:
                with RasterWriter(
                    velocity_output, out_grid, VELOCITY_BANDS, tags=tags, defer_commit=True
                ) as writer:
                    writer.write(velocity_bands(bands, days))
                staged.append(writer.verified_output())
            with RasterWriter(
                output, out_grid, OUTPUT_BANDS, tags=tags, defer_commit=True
            ) as writer:
                writer.write(bands)
            staged.append(writer.verified_output())
            rep.check_cancel()
            commit_all(staged)
            staged.clear()
        finally:
            discard_all(staged)
        if velocity_output and days is not None:
            rep.info(f"Velocities over {days:.0f} days written (offsets x 365.25 / days).")
        valid = float(np.isfinite(east).mean()) if east.size else 0.0
        rep.report(1.0)
        rep.info(
            f"Offsets on a {out_grid.width} x {out_grid.height} grid of window centres "
            f"({cfg.step} px apart), window sizes {list(sizes)}; "
            f"{100 * valid:.1f}% of points valid."
        )
        return OffsetTrackingResult(
            output,
            per_size_output,
            out_grid,
            sizes,
            valid,
            removed,
            str(device),
            velocity_output,
            stable,
        )


def _write_per_size(
    path: str, pixel: PixelOffsets, image: Grid, grid: Grid, tags: dict[str, str]
) -> StagedOutput:
    """Write the per-size offsets, verified but not yet renamed (see :func:`commit_all`)."""
    arrays, names = [], []
    for size in pixel.sizes:
        east, north = pixel_offsets_to_metres(pixel.dy[size], pixel.dx[size], image, grid)
        arrays += [east, north, pixel.quality[size]]
        names += [
            f"east offset (m), {size} px window",
            f"north offset (m), {size} px window",
            f"quality, {size} px window",
        ]
    with RasterWriter(path, grid, names, tags=tags, defer_commit=True) as writer:
        writer.write(np.stack(arrays).astype(np.float32))
    return writer.verified_output()
