"""Multi-window NCC offset tracking of two rasters, streamed in strips of rows.

Reads the reference and secondary band strip by strip (the secondary resampled onto the
reference grid when needed), correlates every window size on one shared grid of window centres
(engine/offsets/strips.py), combines the sizes, removes outliers and writes east/north/
magnitude/quality and 1-sigma bands in metres (engine/offsets/tracking_outputs.py).
"""

from __future__ import annotations

import os

import numpy as np
import rasterio

from ..core.device import run_scope
from ..core.errors import GeohazardError
from ..core.oom import run_with_oom_retry
from ..core.progress import Reporter
from ..core.run_options import RunOptions
from ..io.geodesy import check_not_rotated
from ..io.input_checks import refuse_identical, require_texture, require_valid_data
from ..io.output_files import check_free_space
from ..io.raster_io import check_band, check_output_path, inspect_raster, open_band, planned_raster
from ..io.run_estimate import check_memory
from .bands import OUTPUT_BANDS, VELOCITY_BANDS
from .combine import combine_sizes
from .extras import correct_stable, interval_days, prior_pixels
from .outliers import apply_filter
from .run_checks import (
    estimate_time,
    read_cache_bytes,
    usable_sizes,
    warn_if_unreliable,
    working_memory,
)
from .strips import correlate
from .tracking_config import (
    OffsetTrackingConfig,
    OffsetTrackingResult,
    parse_window_sizes,
    validate_config,
)
from .tracking_outputs import output_tags, write_outputs
from .uncertainty import combined_sigma
from .units import pixel_offsets_to_metres, pixel_sigmas_to_metres
from .window_grid import CentreGrid

__all__ = [
    "OffsetTrackingConfig",
    "OffsetTrackingResult",
    "correlate",
    "parse_window_sizes",
    "track_offsets",
]


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
    validate_config(cfg)
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
    check_not_rotated(image, os.path.basename(reference))
    sizes = usable_sizes(sizes, cfg.search, image, rep)
    check_band(ref_info, cfg.band)
    check_band(sec_info, cfg.band)
    centres = CentreGrid.for_image(image.height, image.width, sizes[0], cfg.step, cfg.search)
    out_grid = centres.output_grid(image)
    planned = [planned_raster(output, out_grid, len(OUTPUT_BANDS))]
    if per_size_output:
        planned.append(planned_raster(per_size_output, out_grid, 3 * len(sizes)))
    if velocity_output:
        planned.append(planned_raster(velocity_output, out_grid, len(VELOCITY_BANDS)))
    check_free_space(planned, rep)
    check_memory(
        working_memory(centres, sizes, image.width),
        f"the offsets of {len(sizes)} window size(s) on a {out_grid.width} x "
        f"{out_grid.height} grid of window centres",
        "use a larger STEP (the output has one pixel per STEP x STEP input pixels), fewer "
        "window sizes, or clip the images to the area of interest.",
        rep,
    )
    # what reads pixels comes after the sizes are known to fit
    refuse_identical(ref_info, sec_info, cfg.band, rep)
    require_valid_data(ref_info, cfg.band, "reference", rep)
    require_valid_data(sec_info, cfg.band, "secondary", rep)
    with open_band(ref_info, cfg.band) as reader:
        require_texture(
            reader, image, "reference", os.path.basename(reference), cfg.band, sizes[0], rep
        )
    with open_band(sec_info, cfg.band, image, None, role="secondary") as reader:
        require_texture(
            reader, image, "secondary", os.path.basename(secondary), cfg.band, sizes[0], rep
        )
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
        estimate_time(
            centres, sizes, image, device, rep, cfg.prefilter, cfg.deform_passes, cfg.chunk_size
        )
        with (
            # GDAL's block cache capped for the run (its default, 5% of the machine's memory,
            # was 1.2 GB of a Sentinel-1 frame's 3 GB peak); restored afterwards
            rasterio.Env(GDAL_CACHEMAX=read_cache_bytes(image.width)),
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
        warn_if_unreliable(ry, rx, quality, matched, removed, cfg.search, rep)
        sig_y, sig_x = combined_sigma(pixel, dy, dx)
        east, north = pixel_offsets_to_metres(dy, dx, image, out_grid, rep)
        sig_e, sig_n = pixel_sigmas_to_metres(sig_y, sig_x, image, out_grid)
        bands = np.stack([east, north, np.hypot(east, north), quality, sig_e, sig_n])
        bands[:, ~(np.isfinite(east) & np.isfinite(north))] = np.nan
        bands = bands.astype(np.float32)
        stable = None
        if cfg.stable_areas:
            stable = correct_stable(bands, cfg.stable_areas, out_grid, rep)
        tags = output_tags(cfg, sizes, reference, secondary, stable)
        rep.check_cancel()
        write_outputs(
            output,
            bands,
            out_grid,
            tags,
            rep,
            (per_size_output, pixel, image) if per_size_output else None,
            (velocity_output, days) if velocity_output and days is not None else None,
        )
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
