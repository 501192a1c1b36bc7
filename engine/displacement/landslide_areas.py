"""Landslide areas: polygons of coherent moving ground in a displacement raster.

A measurement point (a pixel of the displacement raster) counts as moving when

1. its magnitude is at least THRESHOLD (raster units: m for offsets, m/yr for velocities), and
2. (when the raster has the 1-sigma bands 5/6 and the uncertainty test is on) its motion is
   significant: z = hypot(east / sigma east, north / sigma north) >= k (SIGNIFICANCE, default
   3), each sigma being the point's own 1-sigma or, when larger, the robust scatter of that
   band over the whole raster (1.4826 x median absolute deviation: most of a scene is still).
   Still ground whose sigmas are right passes with probability exp(-k^2 / 2): 1.1% at k = 3;
   and
3. (with a DEM and MIN_SLOPE > 0) its slope is at least MIN_SLOPE.

Outlines follow the ground, not the raster's pixel grid: each point's margin to the rule above
(in sigmas, clipped to +-3, negative where the rule fails or no value) is interpolated
bilinearly onto a grid REFINE times finer (5, or 3 or 1 on very large rasters), and the
interpolated margin is thresholded at zero there. A step edge is then cut midway between
points, as pixels are, and a smooth field where it crosses the threshold. On that finer grid:
gaps are bridged by a binary closing with a 3 x 3 square repeated ``closing`` x REFINE times
(gaps up to 2 x ``closing`` raster pixels), holes are filled, and 4-connected components are
kept when their ground area is at least MIN_AREA and they hold at least MIN_POINTS moving
measurement points (default 4: scattered false points, 1.1% of still ground, do not make an
area). Each outline is traced on the fine grid and smoothed: the corners of the
fine pixels are cut (each vertex replaced by the midpoints of its two edges) and the ring is
simplified (Douglas-Peucker, a quarter of a fine pixel).

Attributes are computed over the measurement points inside each outline that hold a value.
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

# Margins (in sigmas) are clipped to +-MARGIN_CLIP before interpolation: a step edge is cut
# midway between its points, a field within MARGIN_CLIP sigmas of the rule where it crosses.
MARGIN_CLIP = 3.0
# Finer grids tried for the outlines, finest first; the first whose pixels fit FINE_PIXELS.
REFINE_FACTORS = (5, 3, 1)
FINE_PIXELS = 16_000_000

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
        use_uncertainty: count only motion significant against its own 1-sigma uncertainty.
        significance: k of that test, hypot(east / sigma east, north / sigma north) >= k.
        min_points: an area holds at least this many moving measurement points.
        closing: repetitions of the 3 x 3 closing that bridges small gaps (0 = none).
    """

    threshold: float = 0.5
    min_area_m2: float = 1000.0
    min_slope_deg: float = 0.0
    use_uncertainty: bool = True
    significance: float = 3.0
    min_points: int = 4
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
        if not np.isfinite(self.significance) or not 0 <= self.significance <= 10:
            raise GeohazardError("The significance must be between 0 and 10 sigmas.")
        if not 1 <= self.min_points <= 1_000_000:
            raise GeohazardError("The minimum number of points must be 1 or more.")


@dataclass
class LandslideAreas:
    """Result: one WKT polygon and one attribute dict (keys of FIELDS) per landslide area."""

    geometries: list[str] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    units: str = "m"
    crs_wkt: str | None = None


def scatter(values: np.ndarray) -> float:
    """Robust standard deviation of a band over the raster: 1.4826 x its median absolute
    deviation (0 when fewer than 10 values)."""
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return 0.0
    return float(1.4826 * np.median(np.abs(finite - np.median(finite))))


def significance(disp: DisplacementField) -> np.ndarray | None:
    """z = hypot(east / sigma east, north / sigma north) of every point (None without sigmas).

    Each sigma is at least the scatter of its band over the whole raster (most of a scene is
    still ground, so that scatter is what noise alone gives), which guards against points
    whose own sigma is too small (at the image edges, or where the ground changed)."""
    if disp.sigma_east is None or disp.sigma_north is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.fmax(disp.sigma_east, scatter(disp.east))
        sn = np.fmax(disp.sigma_north, scatter(disp.north))
        se = np.where(se > 0, se, np.nan)
        sn = np.where(sn > 0, sn, np.nan)
        return np.asarray(np.hypot(disp.east / se, disp.north / sn))


def moving_margin(
    disp: DisplacementField,
    cfg: LandslideConfig,
    slope: np.ndarray | None,
    reporter: Reporter,
) -> np.ndarray:
    """Each point's margin to the moving rule in sigmas, clipped to +-MARGIN_CLIP: >= 0 where
    the point counts as moving, -MARGIN_CLIP where it has no value or fails a hard mask."""
    mag = disp.magnitude
    scale = disp.sigma if disp.sigma is not None else None
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale is None:
            # without uncertainty bands a third of the threshold stands for one sigma
            margin = (mag - cfg.threshold) / (cfg.threshold / MARGIN_CLIP)
        else:
            margin = (mag - cfg.threshold) / np.where(scale > 0, scale, np.nan)
            margin = np.where(np.isfinite(margin) | ~np.isfinite(mag), margin, 0.0)
    moving = np.isfinite(mag) & (mag >= cfg.threshold)
    reporter.info(f"{int(moving.sum())} point(s) move at least {cfg.threshold:g} {disp.units}.")
    if cfg.use_uncertainty:
        z = significance(disp)
        if z is None:
            reporter.warning(
                "The raster has no uncertainty bands (5 and 6); the significance test is skipped."
            )
        else:
            significant = np.isfinite(z) & (z >= cfg.significance)
            dropped = int((moving & ~significant).sum())
            moving &= significant
            margin = np.fmin(margin, np.where(np.isfinite(z), z - cfg.significance, -np.inf))
            reporter.info(
                f"{dropped} of them move less than {cfg.significance:g} sigma of their own "
                "uncertainty (not significant) and are dropped."
            )
    if slope is not None and cfg.min_slope_deg > 0:
        steep = np.isfinite(slope) & (slope >= cfg.min_slope_deg)
        dropped = int((moving & ~steep).sum())
        moving &= steep
        margin = np.where(steep, margin, -np.inf)
        reporter.info(f"{dropped} point(s) on slopes under {cfg.min_slope_deg:g} deg dropped.")
    margin = np.clip(np.nan_to_num(margin, nan=-MARGIN_CLIP), -MARGIN_CLIP, MARGIN_CLIP)
    # the points that pass keep a margin >= 0, those that fail < 0, whatever the rounding
    margin = np.where(moving, np.maximum(margin, 0.0), np.minimum(margin, -1e-6))
    return np.asarray(margin, dtype=np.float64)


def refine_factor(shape: tuple[int, ...]) -> int:
    """How many times finer the outline grid is (5, 3 or 1: odd, so each point's centre is the
    centre of a fine pixel)."""
    pixels = shape[0] * shape[1]
    for factor in REFINE_FACTORS:
        if pixels * factor * factor <= FINE_PIXELS:
            return factor
    return 1


def fine_margin(margin: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear interpolation of the margin onto a grid ``factor`` times finer, each fine
    pixel's centre placed where it lies between the points' centres."""
    from scipy import ndimage

    if factor == 1:
        return margin
    rows = (np.arange(margin.shape[0] * factor) + 0.5) / factor - 0.5
    cols = (np.arange(margin.shape[1] * factor) + 0.5) / factor - 0.5
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.asarray(ndimage.map_coordinates(margin, [rr, cc], order=1, mode="nearest"))


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


def _douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """The vertices of an open polyline kept by Douglas-Peucker within ``tolerance``."""
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = points[first], points[last]
        seg = b - a
        length = float(np.hypot(*seg))
        inner = points[first + 1 : last]
        if length == 0:
            dist = np.hypot(*(inner - a).T)
        else:
            dist = np.abs(seg[0] * (inner[:, 1] - a[1]) - seg[1] * (inner[:, 0] - a[0])) / length
        worst = int(np.argmax(dist))
        if dist[worst] > tolerance:
            split = first + 1 + worst
            keep[split] = True
            stack += [(first, split), (split, last)]
    return points[keep]


def smooth_ring(ring: list, tolerance: float) -> list[tuple[float, float]]:
    """A ring traced along pixel edges, its staircase removed: each vertex replaced by the
    midpoints of its two edges (corners cut), then simplified within ``tolerance``."""
    pts = np.asarray(ring, dtype=np.float64)[:-1]  # closed ring: last vertex repeats the first
    if len(pts) < 4:
        return [tuple(p) for p in np.asarray(ring, dtype=np.float64)]
    mids = (pts + np.roll(pts, -1, axis=0)) / 2.0
    # start the open polyline at the vertex farthest from the first, so both ends are kept
    far = int(np.argmax(np.hypot(*(mids - mids[0]).T)))
    half_a = _douglas_peucker(mids[: far + 1], tolerance)
    half_b = _douglas_peucker(np.vstack([mids[far:], mids[:1]]), tolerance)
    out = np.vstack([half_a, half_b[1:]])
    if len(out) < 4:  # a speck: keep the cut corners rather than collapse it
        out = np.vstack([mids, mids[:1]])
    return [(float(x), float(y)) for x, y in out]


def _shoelace(ring: list) -> float:
    xy = np.asarray(ring, dtype=np.float64)
    return float(abs(np.dot(xy[:-1, 0], xy[1:, 1]) - np.dot(xy[1:, 0], xy[:-1, 1])) / 2.0)


def polygons_area(polygons: list[dict]) -> float:
    """Area of polygons (exterior rings less holes) in squared map units."""
    total = 0.0
    for polygon in polygons:
        rings = polygon["coordinates"]
        total += _shoelace(rings[0]) - sum(_shoelace(r) for r in rings[1:])
    return total


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
        cfg: thresholds, significance and morphology.
        dem_path: optional DEM (metres) for slope, aspect, the downslope flag and the slope mask.
        reporter: progress, cancel and log callbacks.

    Returns:
        Polygons (WKT in the raster's CRS) and attributes, largest area first.
    """
    from affine import Affine
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
    rep.report(0.2)
    margin = moving_margin(disp, cfg, slope, rep)
    moving_points = margin >= 0
    factor = refine_factor(margin.shape)
    mask = clean_mask(fine_margin(margin, factor) >= 0, cfg.closing * factor)
    rep.check_cancel()
    labels, count = ndimage.label(mask)
    fine_area = np.repeat(disp.pixel_area_m2(), factor, axis=0) / (factor * factor)
    areas = np.atleast_1d(
        ndimage.sum(np.broadcast_to(fine_area, labels.shape), labels, np.arange(1, count + 1))
    )
    # the outline each point's centre falls in (the centre of a fine pixel: the factor is odd)
    centre = factor // 2
    point_labels = labels[centre::factor, centre::factor][: margin.shape[0], : margin.shape[1]]
    points = np.atleast_1d(
        ndimage.sum(moving_points, point_labels, np.arange(1, count + 1))
    ).astype(int)
    keep = [
        i + 1 for i in range(count) if areas[i] >= cfg.min_area_m2 and points[i] >= cfg.min_points
    ]
    rep.info(
        f"{count} moving area(s), {len(keep)} of at least {cfg.min_area_m2:g} m2 holding at "
        f"least {cfg.min_points} moving point(s) kept (outlines traced on a grid {factor} "
        "times finer than the raster's)."
    )
    rep.report(0.5)
    kept = np.where(np.isin(labels, keep), labels, 0).astype("int32")
    fine_transform = disp.grid.transform * Affine.scale(1.0 / factor)
    tolerance = 0.25 * abs(fine_transform.a)
    rings: dict[int, list[dict]] = {}
    for geom, value in shapes(kept, mask=kept > 0, connectivity=4, transform=fine_transform):
        smooth = {"coordinates": [smooth_ring(r, tolerance) for r in geom["coordinates"]]}
        rings.setdefault(int(value), []).append(smooth)
    result = LandslideAreas(
        units=disp.units, crs_wkt=disp.grid.crs.to_wkt() if disp.grid.crs else None
    )
    order = sorted(keep, key=lambda i: -float(areas[i - 1]))
    fine_cell = abs(fine_transform.a * fine_transform.e)
    fine_counts = np.bincount(labels.ravel(), minlength=count + 1)
    for n, label in enumerate(order, start=1):
        rep.check_cancel()
        region = point_labels == label
        # the ground area of the fine pixels, scaled by what smoothing changed of the outline
        traced = float(fine_counts[label]) * fine_cell
        area = float(areas[label - 1]) * polygons_area(rings[label]) / traced
        result.geometries.append(_polygons_wkt(rings[label]))
        result.attributes.append(_attributes(n, region, disp, area, gradient))
        rep.report(0.5 + 0.5 * n / max(len(order), 1))
    rep.report(1.0)
    return result
