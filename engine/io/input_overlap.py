"""Inputs of a workflow that must show the same ground: which one lies elsewhere.

A workflow (the shipped landslide event model) takes several rasters of one area. When one of
them covers none of the ground the others cover, the step that first reads it would blame
whichever raster it happens to compare it with; :func:`check_same_ground` names the raster that
is off, before any step runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from rasterio.warp import transform_bounds

from ..core.errors import GeohazardError
from .raster_io import Grid, inspect_raster, overlap_fraction


def _centre_distance_km(a: Grid, b: Grid) -> float | None:
    """Distance between the centres of two grids in km (None when it cannot be measured)."""
    if a.crs is None or b.crs is None:
        return None
    bounds = b.bounds if a.crs == b.crs else transform_bounds(b.crs, a.crs, *b.bounds)
    ax, ay = (a.bounds[0] + a.bounds[2]) / 2, (a.bounds[1] + a.bounds[3]) / 2
    bx, by = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    if not a.crs.is_projected:
        return None
    factor = a.crs.linear_units_factor[1] if a.crs.linear_units_factor else 1.0
    return math.hypot(ax - bx, ay - by) * factor / 1000.0


def check_same_ground(rasters: Mapping[str, str]) -> None:
    """Refuse, naming it, a raster that overlaps none of the others.

    Args:
        rasters: the user's name of each input (e.g. ``"SAR (post-event SAR, VV/VH)"``) ->
            its file. At least two; inputs that overlap each other pass silently.

    Raises:
        GeohazardError: one raster (or every raster) covers ground none of the others cover.
    """
    grids = {label: inspect_raster(path).grid for label, path in rasters.items()}
    labels = list(grids)
    if len(labels) < 2:
        return
    alone = []
    for label in labels:
        others = [o for o in labels if o != label]
        if all(
            overlap_fraction(grids[label], grids[o]) <= 0.0
            and overlap_fraction(grids[o], grids[label]) <= 0.0
            for o in others
        ):
            alone.append(label)
    if not alone:
        return
    if len(alone) == len(labels):
        names = ", ".join(f"{lab} '{os.path.basename(rasters[lab])}'" for lab in labels)
        raise GeohazardError(
            f"None of the input rasters overlap each other ({names}); they must all show the "
            "same area."
        )
    for label in alone:
        others = [o for o in labels if o not in alone]
        distance = _centre_distance_km(grids[others[0]], grids[label])
        far = f", about {distance:.0f} km from them" if distance is not None else ""
        raise GeohazardError(
            f"The {label} raster '{os.path.basename(rasters[label])}' does not overlap the "
            f"other inputs ({', '.join(others)}){far}: give a {label.split(' ')[0]} raster of "
            "the same area."
        )
