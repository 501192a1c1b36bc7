"""Acquisition dates of a stack: given explicitly, read from each file's tags, or from a
YYYYMMDD date in its name; refused when missing, duplicated or out of order."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence

import rasterio

from ..core.errors import GeohazardError

# Metadata tags that hold an acquisition date (GDAL's SAR drivers and common processors);
# TIFFTAG_DATETIME is left out: it is the time the file was written, not acquired.
DATE_TAGS = (
    "ACQUISITION_DATE",
    "ACQUISITION_START_TIME",
    "FIRST_LINE_TIME",
    "SENSING_START",
    "SENSING_TIME",
    "DATE_ACQUIRED",
    "START_TIME",
    "DATE",
)
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_TEXT_DATE = re.compile(r"^\s*(\d{4})[-:/]?(\d{2})[-:/]?(\d{2})")


def parse_date(text: str) -> dt.date | None:
    """The date at the start of ``text`` (YYYY-MM-DD, YYYYMMDD, YYYY:MM:DD), or None."""
    m = _TEXT_DATE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_in_name(path: str) -> dt.date | None:
    """The first valid YYYYMMDD date in a file's name (Sentinel-1: ..._20240105T053012_...)."""
    for m in _NAME_DATE.finditer(os.path.basename(path)):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def date_in_tags(path: str) -> dt.date | None:
    """The acquisition date in the raster's metadata tags (DATE_TAGS), or None."""
    try:
        with rasterio.open(path) as src:
            tags = {k.upper(): v for k, v in src.tags().items()}
    except rasterio.errors.RasterioError:
        return None
    for key in DATE_TAGS:
        if key in tags:
            found = parse_date(str(tags[key]))
            if found is not None:
                return found
    return None


def parse_dates_text(text: str, count: int) -> list[dt.date]:
    """DATES: comma-separated YYYY-MM-DD, one per input image in the order of INPUT."""
    items = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    if len(items) != count:
        raise GeohazardError(
            f"DATES holds {len(items)} date(s) but INPUT has {count} image(s); give one "
            "YYYY-MM-DD date per image, comma-separated, in the order of INPUT."
        )
    dates = []
    for item in items:
        found = parse_date(item)
        if found is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
            raise GeohazardError(f"DATES: '{item}' is not a date; write dates as YYYY-MM-DD.")
        dates.append(found)
    return dates


def stack_dates(paths: Sequence[str], explicit: str | None = None) -> list[dt.date]:
    """One date per image: from ``explicit`` (DATES) when given, else each file's tags, else a
    YYYYMMDD in its name. Raises one clear sentence for a missing, repeated or out-of-order
    date (the images must be given oldest first)."""
    if explicit and explicit.strip():
        dates = parse_dates_text(explicit, len(paths))
        source = "DATES"
    else:
        dates = []
        for path in paths:
            found = date_in_tags(path) or date_in_name(path)
            if found is None:
                raise GeohazardError(
                    f"No acquisition date found for '{os.path.basename(path)}': put a YYYYMMDD "
                    "date in its name or an ACQUISITION_DATE tag in the file, or give DATES "
                    "(YYYY-MM-DD, comma-separated, in the order of INPUT)."
                )
            dates.append(found)
        source = "the files' tags or names"
    names = [os.path.basename(p) for p in paths]
    for k in range(1, len(dates)):
        if dates[k] == dates[k - 1] or dates[k] in dates[:k]:
            first = dates[:k].index(dates[k])
            raise GeohazardError(
                f"'{names[first]}' and '{names[k]}' have the same date "
                f"{dates[k].isoformat()} (from {source}); each image must have its own date."
            )
        if dates[k] < dates[k - 1]:
            raise GeohazardError(
                f"The dates are out of order: '{names[k]}' ({dates[k].isoformat()}) comes after "
                f"'{names[k - 1]}' ({dates[k - 1].isoformat()}) in INPUT (dates from {source}); "
                "give the images oldest first."
            )
    return dates
