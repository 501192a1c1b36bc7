"""The settings of a classical offset-tracking run, their parsing and their checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..core.errors import GeohazardError
from ..io.raster_io import Grid
from .deform import PASSES as DEFORM_PASSES
from .extras import StableCorrection
from .outliers import FILTERS
from .prefilter import PREFILTERS


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
        chunk_size: windows correlated per batch, the most one job holds (128 was fastest on
            the 2-core CPU; halved on OOM).
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
    """What :func:`track_offsets` wrote and the figures of its log."""

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
            raise GeohazardError(
                f"WINDOW_SIZES '{text}' has an empty size between its commas; write the sizes "
                "separated by single commas, e.g. 32,64,128."
            )
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


def validate_config(config: OffsetTrackingConfig) -> None:
    """Raise a clear error for a step, search, pre-filter or outlier filter out of range."""
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
