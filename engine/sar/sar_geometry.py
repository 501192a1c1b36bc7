"""Side-looking radar geometry over a DEM: local incidence, range slope, layover and shadow.

Flat-earth, far-field geometry of one acquisition: a straight flight line with heading ``H``
(degrees clockwise from north, Sentinel-1's ``platformHeading`` convention, e.g. about -168 on a
descending pass), a look direction at ``H + 90`` (right-looking) or ``H - 90`` (left-looking), and
one incidence angle ``theta`` for the whole DEM (the swath-centre angle; Sentinel-1 IW spans about
29-46 degrees over 250 km, so a DEM a few tens of kilometres wide sees a few degrees of change).

Along a range line (ground distance ``x`` increasing away from the sensor, elevation ``z``):

- slant range ``r = x sin(theta) - z cos(theta)`` (up to a constant), and
- shadow coordinate ``s = z + x cot(theta)``: a ray from the ground towards the sensor rises by
  ``cot(theta)`` per metre travelled back towards it.

With the range slope ``alpha = atan(dz/dx)`` (positive on slopes facing the sensor):

- foreshortening where ``0 < alpha <= theta`` (ground compressed into fewer range cells),
- layover where ``alpha > theta`` (``r`` decreases: the top is imaged before the foot),
- shadow where ``alpha < -(90 - theta)`` (the slope turns away from the rays).

Those local ("active") tests miss terrain that is distorted because of other terrain. The
along-range ("passive") tests of Kropatsch & Strobl (1990) and SNAP's layover/shadow mask add it:
a point is in shadow when some point nearer the sensor along its range line has a larger ``s``
(it hides the point), and in layover when ``r`` is not monotonic around it (some point nearer the
sensor has a larger ``r`` or some farther point a smaller one: both share its range cells). The
sweeps run along exact range lines with linear interpolation between grid rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import GeohazardError

UNDISTORTED, FORESHORTENING, LAYOVER, SHADOW = 0, 1, 2, 3
NODATA_CLASS = 255
CLASS_NAMES = {
    UNDISTORTED: "undistorted",
    FORESHORTENING: "foreshortening",
    LAYOVER: "layover",
    SHADOW: "shadow",
}
# Tolerance (metres of slant range or shadow height) before a comparison counts: planar
# slopes give exact values, so this only absorbs floating-point rounding.
TOLERANCE_M = 1e-3


@dataclass(frozen=True)
class AcquisitionGeometry:
    """Viewing geometry of one SAR acquisition. Defaults: Sentinel-1 IW, descending, mid-swath.

    Args:
        incidence_deg: incidence angle on the ellipsoid at the DEM, degrees. Default 39.
        heading_deg: platform heading, degrees clockwise from true north (Sentinel-1
            ``platformHeading``: about -168 descending, about -12 ascending). Default -168.
        look: ``"right"`` (Sentinel-1 and most SAR satellites) or ``"left"``. Default right.
    """

    incidence_deg: float = 39.0
    heading_deg: float = -168.0
    look: str = "right"

    def check(self) -> None:
        """Raise :class:`GeohazardError` with one sentence for an impossible geometry."""
        if not (math.isfinite(self.incidence_deg) and 5.0 <= self.incidence_deg <= 80.0):
            raise GeohazardError(
                f"The incidence angle must be between 5 and 80 degrees, not {self.incidence_deg}."
            )
        if not math.isfinite(self.heading_deg):
            raise GeohazardError("The heading must be a number of degrees.")
        if self.look not in ("right", "left"):
            raise GeohazardError(f"The look direction must be right or left, not {self.look!r}.")

    @property
    def look_azimuth_deg(self) -> float:
        """Azimuth of the look direction (away from the sensor), degrees clockwise from north."""
        turn = 90.0 if self.look == "right" else -90.0
        return (self.heading_deg + turn) % 360.0

    def look_vector(self, grid_rotation_deg: float = 0.0) -> tuple[float, float]:
        """Unit ground vector (east, north) of the look direction in grid coordinates.

        Args:
            grid_rotation_deg: azimuth of true north in the grid (see
                :func:`engine.io.geodesy.true_north_azimuth`).
        """
        az = math.radians(self.look_azimuth_deg + grid_rotation_deg)
        return math.sin(az), math.cos(az)


def range_slope(
    dem: np.ndarray, col_m: np.ndarray, row_m: np.ndarray, look: tuple[float, float]
) -> np.ndarray:
    """Range slope ``dz/dx`` (rise per metre away from the sensor) of a DEM, central differences.

    Args:
        dem: elevations (rows, cols) in metres, NaN for nodata.
        col_m: signed metres east per column step, per row (shape (rows,)).
        row_m: signed metres north per row step, per row.
        look: unit ground look vector (east, north).
    """
    z = dem.astype(np.float64)
    dz_drow, dz_dcol = np.gradient(z) if min(z.shape) > 1 else (np.zeros_like(z),) * 2
    dz_de = dz_dcol / np.asarray(col_m)[:, None]
    dz_dn = dz_drow / np.asarray(row_m)[:, None]
    return dz_de * look[0] + dz_dn * look[1]


def ground_range(
    shape: tuple[int, ...], col_m: np.ndarray, row_m: np.ndarray, look: tuple[float, float]
) -> np.ndarray:
    """Ground-range coordinate ``x`` (metres, increasing away from the sensor) of each pixel."""
    rows, cols = shape
    north = np.concatenate([[0.0], np.cumsum(np.asarray(row_m, np.float64)[:-1])])
    east = np.arange(cols, dtype=np.float64)[None, :] * np.asarray(col_m, np.float64)[:, None]
    return east * look[0] + north[:, None] * look[1]


@dataclass(frozen=True)
class SweepFrame:
    """How to lay a (rows, cols) array out so range lines run along axis 1, increasing.

    In the frame, the point one step nearer the sensor than ``(i, j)`` is at ``(i - shift, j-1)``
    with ``|shift| <= 1`` (linear interpolation between lines).
    """

    transpose: bool
    flip: bool
    shift: float

    @staticmethod
    def for_direction(dcol: float, drow: float) -> SweepFrame:
        """The frame for a look direction given in pixels per metre (columns, rows)."""
        if abs(dcol) >= abs(drow):
            return SweepFrame(False, dcol < 0, drow / abs(dcol))
        return SweepFrame(True, drow < 0, dcol / abs(drow))

    def to_frame(self, a: np.ndarray) -> np.ndarray:
        b = a.T if self.transpose else a
        return b[:, ::-1] if self.flip else b

    def from_frame(self, a: np.ndarray) -> np.ndarray:
        b = a[:, ::-1] if self.flip else a
        return b.T if self.transpose else b


def _shifted(a: np.ndarray, k: int) -> np.ndarray:
    """``out[i] = a[i + k]``, NaN where ``i + k`` falls outside."""
    out = np.full_like(a, np.nan)
    n = a.shape[0]
    if k >= 0:
        if k < n:
            out[: n - k] = a[k:]
    elif -k < n:
        out[-k:] = a[: n + k]
    return out


def _lerp_at(a: np.ndarray, k: int, f: float) -> np.ndarray:
    """``a`` at positions ``i + k + f`` (0 <= f < 1), linear, ignoring NaN neighbours."""
    a0 = _shifted(a, k)
    if f == 0.0:
        return a0
    a1 = _shifted(a, k + 1)
    ok0, ok1 = np.isfinite(a0), np.isfinite(a1)
    w0 = np.where(ok0, 1.0 - f, 0.0)
    w1 = np.where(ok1, f, 0.0)
    den = w0 + w1
    num = w0 * np.where(ok0, a0, 0.0) + w1 * np.where(ok1, a1, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-9, num / np.where(den > 0, den, 1.0), np.nan)


def upstream_max(v: np.ndarray, shift: float) -> np.ndarray:
    """For each point of a frame, the largest ``v`` strictly nearer the sensor on its range line.

    NaN where nothing lies upstream (first step, or only nodata).
    """
    lines, steps = v.shape
    out = np.full(v.shape, np.nan)
    k = math.floor(-shift)
    f = -shift - k
    run = np.full(lines, np.nan)
    for j in range(1, steps):
        run = _lerp_at(np.fmax(run, v[:, j - 1]), k, f)
        out[:, j] = run
    return out


def downstream_min(v: np.ndarray, shift: float) -> np.ndarray:
    """For each point, the smallest ``v`` strictly farther from the sensor on its range line."""
    return -upstream_max(-v[:, ::-1], -shift)[:, ::-1]


def classify(
    dem: np.ndarray,
    col_m: np.ndarray,
    row_m: np.ndarray,
    geometry: AcquisitionGeometry,
    grid_rotation_deg: float = 0.0,
    along_range: bool = True,
    min_foreshortening_deg: float = 0.0,
) -> np.ndarray:
    """Distortion class of every DEM pixel (uint8; 255 where the DEM is nodata).

    Classes: 0 undistorted, 1 foreshortening, 2 layover, 3 shadow. A pixel that is both in
    shadow and in layover is shadow (it returns no signal of its own).

    Args:
        dem: elevations in metres (rows, cols), NaN for nodata.
        col_m: signed metres east per column step, per row (shape (rows,)).
        row_m: signed metres north per row step, per row.
        geometry: the acquisition geometry.
        grid_rotation_deg: azimuth of true north in the grid (meridian convergence).
        along_range: also mark terrain hidden or overlaid by other terrain (ray casting along
            range lines); False: local slope tests only.
        min_foreshortening_deg: range slope (degrees) a slope facing the sensor must exceed to
            count as foreshortening. Default 0 (the geometric definition).
    """
    theta = math.radians(geometry.incidence_deg)
    look = geometry.look_vector(grid_rotation_deg)
    z = dem.astype(np.float64)
    valid = np.isfinite(z)
    slope = np.degrees(np.arctan(np.nan_to_num(range_slope(z, col_m, row_m, look))))
    fore = (slope > max(min_foreshortening_deg, 0.0)) & (slope <= geometry.incidence_deg)
    layover = slope > geometry.incidence_deg
    shadow = slope < -(90.0 - geometry.incidence_deg)
    if along_range and min(z.shape) > 1:
        x = ground_range(z.shape, col_m, row_m, look)
        r = x * math.sin(theta) - z * math.cos(theta)
        s = z + x / math.tan(theta)
        dcol = look[0] / float(np.mean(col_m))
        drow = look[1] / float(np.mean(row_m))
        frame = SweepFrame.for_direction(dcol, drow)
        r_f, s_f = frame.to_frame(r), frame.to_frame(s)
        with np.errstate(invalid="ignore"):
            hidden = upstream_max(s_f, frame.shift) > s_f + TOLERANCE_M
            overlaid = (upstream_max(r_f, frame.shift) > r_f + TOLERANCE_M) | (
                downstream_min(r_f, frame.shift) < r_f - TOLERANCE_M
            )
        shadow |= frame.from_frame(hidden)
        layover |= frame.from_frame(overlaid)
    out = np.zeros(z.shape, dtype=np.uint8)
    out[fore] = FORESHORTENING
    out[layover] = LAYOVER
    out[shadow] = SHADOW
    out[~valid] = NODATA_CLASS
    return out


def local_incidence_cos(
    dem: np.ndarray,
    col_m: np.ndarray,
    row_m: np.ndarray,
    geometry: AcquisitionGeometry,
    grid_rotation_deg: float = 0.0,
) -> np.ndarray:
    """cos(local incidence angle) between each pixel's surface normal and the sensor direction.

    Negative where the surface faces away from the sensor beyond grazing (active shadow).
    """
    z = dem.astype(np.float64)
    dz_drow, dz_dcol = np.gradient(z)
    gx = dz_dcol / np.asarray(col_m)[:, None]
    gy = dz_drow / np.asarray(row_m)[:, None]  # dz/dnorth
    normal = np.stack([-gx, -gy, np.ones_like(gx)])
    normal /= np.linalg.norm(normal, axis=0)
    le, ln = geometry.look_vector(grid_rotation_deg)
    theta = math.radians(geometry.incidence_deg)
    to_sensor = np.array([-le * math.sin(theta), -ln * math.sin(theta), math.cos(theta)])
    return np.tensordot(to_sensor, normal, axes=1)
