"""What the classical tracker adds around the correlation: prior offsets read onto the centre
grid, the stable-ground correction, and velocities from the acquisition dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.warp import reproject

from ..core.errors import GeohazardError
from ..core.progress import Reporter
from ..io.geodesy import metres_per_degree
from ..io.raster_io import Grid

MIN_STABLE_POINTS = 10
DAYS_PER_YEAR = 365.25


def interval_days(reference: dt.date | None, secondary: dt.date | None) -> float | None:
    """Days from the reference to the secondary date; None when either is missing."""
    if reference is None or secondary is None:
        return None
    days = (secondary - reference).days
    if days <= 0:
        raise GeohazardError(
            f"The secondary date ({secondary.isoformat()}) must be later than the reference date "
            f"({reference.isoformat()}); "
            + ("they are equal." if days == 0 else "they are the wrong way round.")
        )
    return float(days)


def velocity_bands(bands: np.ndarray, days: float) -> np.ndarray:
    """The offset bands (m) as velocities (m/yr): every band but quality x 365.25 / days."""
    out = bands * np.float32(DAYS_PER_YEAR / days)
    out[3] = bands[3]
    return out.astype(np.float32)


def prior_pixels(path: str, image: Grid, centres: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Prior east/north offsets (m, bands 1-2 of ``path``) as rows/columns on the centre grid.

    The prior must share the reference's CRS (any pixel size or extent); it is resampled
    bilinearly to the window centres. Centres it does not cover get a prior of 0.
    """
    with rasterio.open(path) as src:
        if src.count < 2:
            raise GeohazardError(
                f"The prior offsets raster '{path}' needs two bands (east, north offsets in m); "
                f"it has {src.count}."
            )
        if src.crs is None or image.crs is None or src.crs != image.crs:
            raise GeohazardError(
                "The prior offsets raster is in another CRS than the reference image "
                f"({src.crs} against {image.crs}); reproject it to the reference CRS first."
            )
        out = np.full((2, centres.height, centres.width), np.nan, np.float32)
        for k in (0, 1):
            reproject(
                rasterio.band(src, k + 1),
                out[k],
                dst_transform=centres.transform,
                dst_crs=centres.crs,
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    if not np.isfinite(out).any():
        raise GeohazardError(
            "The prior offsets raster does not overlap the reference image (or holds no data "
            "there); give a prior that covers the area tracked."
        )
    east, north = np.nan_to_num(out[0]), np.nan_to_num(out[1])
    if image.crs.is_geographic:
        rows = np.arange(centres.height)[:, None] + 0.5
        _, lat = centres.transform * (np.zeros_like(rows) + 0.5, rows)
        per_lon, per_lat = metres_per_degree(np.asarray(lat))
        east, north = east / per_lon, north / per_lat
    elif image.crs.linear_units_factor:
        factor = image.crs.linear_units_factor[1]
        east, north = east / factor, north / factor
    t = image.transform
    det = t.a * t.e - t.b * t.d
    dx = (t.e * east - t.b * north) / det
    dy = (-t.d * east + t.a * north) / det
    return dy.astype(np.float32), dx.astype(np.float32)


@dataclass
class StableCorrection:
    """The shift removed (m) and the RMSE left over stable ground (m), or None without one."""

    east: float | None = None
    north: float | None = None
    rmse: float | None = None
    points: int = 0


def stable_mask(geometries: list[dict], grid: Grid) -> np.ndarray:
    """True at the output points inside the stable-ground polygons (GeoJSON, the grid's CRS)."""
    if not geometries:
        return np.zeros((grid.height, grid.width), bool)
    burned = rasterize(
        [(g, 1) for g in geometries],
        out_shape=(grid.height, grid.width),
        transform=grid.transform,
        fill=0,
        dtype="uint8",
    )
    return burned.astype(bool)


def correct_stable(
    bands: np.ndarray, geometries: list[dict], grid: Grid, rep: Reporter
) -> StableCorrection:
    """Subtract the median east/north offset over stable ground from bands 1-2 (in place).

    Raises when no polygon touches the output grid; warns and corrects nothing when fewer than
    ``MIN_STABLE_POINTS`` valid points lie inside.
    """
    inside = stable_mask(geometries, grid)
    if not inside.any():
        raise GeohazardError(
            "No stable-ground polygon overlaps the tracked area (check that STABLE_AREAS covers "
            "the reference image and is in a CRS QGIS can transform)."
        )
    ok = inside & np.isfinite(bands[0]) & np.isfinite(bands[1])
    n = int(ok.sum())
    if n < MIN_STABLE_POINTS:
        rep.warning(
            f"Only {n} valid offset points lie on the stable ground (at least {MIN_STABLE_POINTS} "
            "needed): no stable-ground correction was applied. Draw larger stable areas or use "
            "a smaller STEP."
        )
        return StableCorrection(points=n)
    east = float(np.median(bands[0][ok]))
    north = float(np.median(bands[1][ok]))
    bands[0] -= east
    bands[1] -= north
    bands[2] = np.hypot(bands[0], bands[1])
    rmse = float(np.sqrt(np.mean(bands[0][ok] ** 2 + bands[1][ok] ** 2)))
    rep.info(
        f"Stable-ground correction: removed a shift of {east:+.3f} m east, {north:+.3f} m north "
        f"(median over {n} points); RMSE over stable ground after correction {rmse:.3f} m."
    )
    return StableCorrection(east, north, rmse, n)
