"""Landslide areas: polygons of coherent moving ground in a displacement raster.

Steps, each on the displacement grid:

1. moving = magnitude >= threshold (raster units: m for offsets, m/yr for velocities);
2. uncertainty mask (when the raster has 1-sigma bands 5/6): pixels whose magnitude is smaller
   than its uncertainty, hypot(sigma east, sigma north), do not count as moving;
3. slope mask (when a DEM is given and MIN_SLOPE > 0): pixels on gentler slopes do not count;
4. gaps bridged by a binary morphological closing with a 3 x 3 square (8-connected) structuring
   element repeated ``closing`` times (bridges gaps up to 2 x closing pixels), the raster edge
   padded so closing never erodes the border;
5. holes filled (scipy ``binary_fill_holes``);
6. 4-connected components smaller than MIN_AREA (m2, ground area per row) dropped.

Attributes are computed over the pixels of each component that hold a measurement (pixels added
by closing and hole filling count for the area only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rasterio.features import shapes

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from .field import DisplacementField, azimuth_deg, read_displacement
from .terrain_slope import dem_gradient_on_grid, downhill_azimuth_deg, slope_deg

# (name, type) of every attribute, in order; types are "int", "double", "string", "bool".
FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "int"),
    ("area_m2", "double"),
    ("mean_disp", "double"),
    ("max_disp", "double"),
    ("units", "string"),
    ("azimuth", "double"),
    ("slope", "double"),
    ("aspect", "double"),
    ("downslope", "bool"),
    ("quality", "double"),
    ("sigma", "double"),
    ("pixels", "int"),
)


@dataclass(frozen=True)
class LandslideConfig:
    """Options of :func:`landslide_areas`.

    Args:
        threshold: smallest magnitude that counts as moving, in the raster's units (> 0).
        min_area_m2: polygons smaller than this ground area are dropped (>= 0).
        min_slope_deg: with a DEM, pixels on slopes gentler than this do not count (0 = off).
        use_uncertainty: drop pixels whose motion is smaller than its 1-sigma uncertainty.
        closing: repetitions of the 3 x 3 closing that bridges small gaps (0 = none).
    """

    threshold: float = 0.5
    min_area_m2: float = 1000.0
    min_slope_deg: float = 0.0
    use_uncertainty: bool = True
    closing: int = 1

    def validate(self) -> None:
        if not np.isfinite(self.threshold) or self.threshold <= 0:
            raise GeohazardError("The magnitude threshold must be a positive number.")
        if not np.isfinite(self.min_area_m2) or self.min_area_m2 < 0:
            raise GeohazardError("The minimum area must be zero or more square metres.")
        if not 0 <= self.min_slope_deg < 90:
            raise GeohazardError("The minimum slope must be between 0 and 90 degrees.")
        if not 0 <= self.closing <= 20:
            raise GeohazardError("The gap closing must be between 0 and 20 pixels.")


@dataclass
class LandslideAreas:
    """Result: one WKT polygon and one attribute dict (keys of FIELDS) per landslide area."""

    geometries: list[str] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    units: str = "m"
    crs_wkt: str | None = None


def moving_mask(
    disp: DisplacementField,
    cfg: LandslideConfig,
    slope: np.ndarray | None,
    reporter: Reporter,
) -> np.ndarray:
    """Pixels that count as moving before morphology (steps 1-3)."""
    mag = disp.magnitude
    moving = np.isfinite(mag) & (mag >= cfg.threshold)
    reporter.info(f"{int(moving.sum())} pixel(s) move at least {cfg.threshold:g} {disp.units}.")
    if cfg.use_uncertainty:
        if disp.sigma is None:
            reporter.warning(
                "The raster has no uncertainty bands (5 and 6); the uncertainty mask is skipped."
            )
        else:
            certain = np.isfinite(disp.sigma) & (mag > disp.sigma)
            dropped = int((moving & ~certain).sum())
            moving &= certain
            reporter.info(f"{dropped} pixel(s) move less than their uncertainty and are dropped.")
    if slope is not None and cfg.min_slope_deg > 0:
        steep = np.isfinite(slope) & (slope >= cfg.min_slope_deg)
        dropped = int((moving & ~steep).sum())
        moving &= steep
        reporter.info(f"{dropped} pixel(s) on slopes under {cfg.min_slope_deg:g} deg dropped.")
    return moving


def clean_mask(moving: np.ndarray, closing: int) -> np.ndarray:
    """Bridge gaps (closing with a 3 x 3 square, ``closing`` times) and fill holes."""
    from scipy import ndimage

    mask = moving
    if closing > 0:
        pad = closing + 1
        padded = np.pad(moving, pad, mode="constant")
        square = np.ones((3, 3), dtype=bool)
        closed = ndimage.binary_closing(padded, structure=square, iterations=closing)
        mask = closed[pad:-pad, pad:-pad] | moving
    return np.asarray(ndimage.binary_fill_holes(mask), dtype=bool)


def _ring_wkt(ring: list) -> str:
    return "(" + ", ".join(f"{x!r} {y!r}" for x, y in ring) + ")"


def _polygons_wkt(polygons: list[dict]) -> str:
    parts = ["(" + ", ".join(_ring_wkt(r) for r in p["coordinates"]) + ")" for p in polygons]
    if len(parts) == 1:
        return "POLYGON " + parts[0]
    return "MULTIPOLYGON (" + ", ".join(parts) + ")"


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _attributes(
    index: int,
    region: np.ndarray,
    disp: DisplacementField,
    area_m2: float,
    gradient: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, Any]:
    measured = region & np.isfinite(disp.magnitude)
    east = _nanmean(disp.east[measured])
    north = _nanmean(disp.north[measured])
    mags = disp.magnitude[measured]
    direction = float(azimuth_deg(east, north)) if np.isfinite(east + north) else float("nan")
    slope = aspect = float("nan")
    downslope: bool | None = None
    if gradient is not None:
        ge, gn = gradient[0][region], gradient[1][region]
        slope = _nanmean(slope_deg(ge, gn))
        me, mn = _nanmean(ge), _nanmean(gn)
        if np.isfinite(me + mn) and np.hypot(me, mn) > 0:
            aspect = float(downhill_azimuth_deg(me, mn))
            if np.isfinite(direction):
                diff = abs((direction - aspect + 180.0) % 360.0 - 180.0)
                downslope = bool(diff <= 90.0)
    sigma = _nanmean(disp.sigma[measured]) if disp.sigma is not None else float("nan")
    return {
        "id": index,
        "area_m2": area_m2,
        "mean_disp": float(mags.mean()) if mags.size else float("nan"),
        "max_disp": float(mags.max()) if mags.size else float("nan"),
        "units": disp.units,
        "azimuth": direction,
        "slope": slope,
        "aspect": aspect,
        "downslope": downslope,
        "quality": _nanmean(disp.quality[measured]),
        "sigma": sigma,
        "pixels": int(region.sum()),
    }


def landslide_areas(
    input_path: str,
    cfg: LandslideConfig,
    dem_path: str | None = None,
    reporter: Reporter | None = None,
) -> LandslideAreas:
    """Polygons of coherent moving ground in a displacement raster, with their attributes.

    Args:
        input_path: displacement raster (bands east, north, magnitude, quality[, sigma E, N]).
        cfg: thresholds and morphology.
        dem_path: optional DEM (metres) for slope, aspect, the downslope flag and the slope mask.
        reporter: progress, cancel and log callbacks.

    Returns:
        Polygons (WKT in the raster's CRS) and attributes, largest area first.
    """
    from scipy import ndimage

    rep = reporter or Reporter()
    cfg.validate()
    disp = read_displacement(input_path)
    rep.report(0.1)
    gradient = dem_gradient_on_grid(dem_path, disp.grid, rep) if dem_path else None
    slope = slope_deg(*gradient) if gradient is not None else None
    if cfg.min_slope_deg > 0 and gradient is None:
        rep.warning("A minimum slope was set but no DEM was given; the slope mask is skipped.")
    rep.check_cancel()
    rep.report(0.3)
    mask = clean_mask(moving_mask(disp, cfg, slope, rep), cfg.closing)
    labels, count = ndimage.label(mask)
    pixel_area = np.broadcast_to(disp.pixel_area_m2(), labels.shape)
    areas = ndimage.sum(pixel_area, labels, index=np.arange(1, count + 1))
    keep = [i + 1 for i, a in enumerate(np.atleast_1d(areas)) if a >= cfg.min_area_m2]
    rep.info(
        f"{count} moving area(s), {len(keep)} of at least {cfg.min_area_m2:g} m2 kept "
        "(3 x 3 closing, holes filled)."
    )
    rep.report(0.5)
    kept = np.where(np.isin(labels, keep), labels, 0).astype("int32")
    rings: dict[int, list[dict]] = {}
    for geom, value in shapes(kept, mask=kept > 0, connectivity=4, transform=disp.grid.transform):
        rings.setdefault(int(value), []).append(geom)
    result = LandslideAreas(
        units=disp.units, crs_wkt=disp.grid.crs.to_wkt() if disp.grid.crs else None
    )
    order = sorted(keep, key=lambda i: -float(np.atleast_1d(areas)[i - 1]))
    for n, label in enumerate(order, start=1):
        rep.check_cancel()
        region = labels == label
        area = float(np.atleast_1d(areas)[label - 1])
        result.geometries.append(_polygons_wkt(rings[label]))
        result.attributes.append(_attributes(n, region, disp, area, gradient))
        rep.report(0.5 + 0.5 * n / max(len(order), 1))
    rep.report(1.0)
    return result
