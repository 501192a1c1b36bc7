"""The pair network of a stack: each image with its next K images within a largest time span."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..core.errors import GeohazardError


def pair_network(
    dates: Sequence[dt.date], per_image: int = 3, max_span_days: float = 0.0
) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of image indices: each image with its next ``per_image`` images
    whose date is at most ``max_span_days`` later (0: no limit), ordered by i then j."""
    if len(dates) < 3:
        raise GeohazardError(f"A time series needs at least 3 images; INPUT has {len(dates)}.")
    if per_image < 1:
        raise GeohazardError("PAIRS_PER_IMAGE must be at least 1.")
    pairs = []
    for i in range(len(dates)):
        for j in range(i + 1, min(len(dates), i + 1 + per_image)):
            if max_span_days > 0 and (dates[j] - dates[i]).days > max_span_days:
                break
            pairs.append((i, j))
    if not pairs:
        raise GeohazardError(
            f"No pair of images lies within the largest time span ({max_span_days:g} days); "
            "raise MAX_SPAN_DAYS or set it to 0 (no limit)."
        )
    return pairs


def network_gaps(n_dates: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Intervals k (from date k to k + 1) that no pair spans: the network falls apart there and
    the inversion's minimum-velocity constraint bridges them."""
    spanned = [False] * (n_dates - 1)
    for i, j in pairs:
        for k in range(i, j):
            spanned[k] = True
    return [k for k, ok in enumerate(spanned) if not ok]
