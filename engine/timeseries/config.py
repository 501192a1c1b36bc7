"""The options of a time series run (engine/timeseries/run.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..offsets.tracking_config import OffsetTrackingConfig
from .stack_plan import BAND_PIXELS


@dataclass
class TimeSeriesConfig:
    """Options of :func:`displacement_time_series` (names follow the Processing parameters).

    Args:
        tracking: the offset-tracking settings used for every pair (no prior, no dates).
        dates: DATES, comma-separated YYYY-MM-DD in the order of the inputs (None: from tags or
            file names).
        pairs_per_image: K, each image is paired with its next K.
        max_span_days: largest time between the images of a pair (0: no limit).
        scheduler: a Dask scheduler address (tcp://host:8786); None runs on this machine.
        band_pixels: image pixels per task (a band of rows of every image).
        areas: (name, GeoJSON geometry in the images' CRS) landslide areas for the report;
            None finds the moving areas in the result.
        points: (name, x, y in the images' CRS) points plotted in the report.
    """

    tracking: OffsetTrackingConfig = field(default_factory=OffsetTrackingConfig)
    dates: str | None = None
    pairs_per_image: int = 3
    max_span_days: float = 0.0
    scheduler: str | None = None
    band_pixels: int = BAND_PIXELS
    areas: list[tuple[str, dict]] | None = None
    points: list[tuple[str, float, float]] | None = None
