"""The files a tracking run writes (offsets, per-size offsets, velocities), all or none."""

from __future__ import annotations

import os

import numpy as np

from ..core.progress import Reporter
from ..io.output_files import StagedOutput, commit_all, discard_all
from ..io.raster_io import Grid, RasterWriter
from .bands import OUTPUT_BANDS, VELOCITY_BANDS
from .extras import StableCorrection, velocity_bands
from .pixel_offsets import PixelOffsets
from .tracking_config import OffsetTrackingConfig
from .units import pixel_offsets_to_metres


def output_tags(
    cfg: OffsetTrackingConfig,
    sizes: tuple[int, ...],
    reference: str,
    secondary: str,
    stable: StableCorrection | None,
) -> dict[str, str]:
    """GeoTIFF metadata of the outputs: the settings, the inputs, dates and stable-ground fit."""
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
    return tags


def write_outputs(
    output: str,
    bands: np.ndarray,
    grid: Grid,
    tags: dict[str, str],
    rep: Reporter,
    per_size: tuple[str, PixelOffsets, Grid] | None = None,
    velocity: tuple[str, float] | None = None,
) -> None:
    """Write the offsets, and the per-size offsets ``(path, pixel offsets, image grid)`` and
    velocities ``(path, days)`` when asked, each verified, then rename them together."""
    staged = []  # the outputs of a run are written all or none
    try:
        if per_size is not None:
            path, pixel, image = per_size
            staged.append(write_per_size(path, pixel, image, grid, tags))
        if velocity is not None:
            with RasterWriter(
                velocity[0], grid, VELOCITY_BANDS, tags=tags, defer_commit=True
            ) as writer:
                writer.write(velocity_bands(bands, velocity[1]))
            staged.append(writer.verified_output())
        with RasterWriter(output, grid, OUTPUT_BANDS, tags=tags, defer_commit=True) as writer:
            writer.write(bands)
        staged.append(writer.verified_output())
        rep.check_cancel()
        commit_all(staged)
        staged.clear()
    finally:
        discard_all(staged)


def write_per_size(
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
