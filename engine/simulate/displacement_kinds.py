"""Displacement fields of the kinds geologists track: glaciers, faults, volcanoes, landslides.

All fields are in pixels with the convention of displacement.py (a feature at reference pixel
(row, col) is found at (row + dy, col + dx) in the secondary; dx right, dy down), returned as
``(dy, dx)`` float32 arrays. They are kinematic shapes, not mechanical models:

- glacier flow: a winding channel whose ice moves along the centreline with a plug-like speed
  profile across (``1 - |n / half_width| ** p``), speeding up or slowing down along the flow;
- fault slip: the surface motion of a vertical strike-slip fault slipping from the surface to
  depth D (Savage & Burford 1973, coseismic form ``u = s / pi * atan(D / x)``): a step of ``s``
  across the trace decaying away from it, tapered elliptically to zero at the rupture's tips, with
  an optional fault-normal (dip-slip) component of the same shape;
- volcanic inflation: the horizontal motion over a Mogi point source at depth d
  (``u_r ~ r / (r^2 + d^2) ^ 1.5``), outward (inflation) or inward (deflation);
- landslides: lobate bodies on the steepest slopes moving downslope (displacement.py);
- no motion.

With ``sharp_share`` > 0, that share of glacier, fault and landslide fields is drawn with
discontinuities a window-based tracker smears: glaciers with plug flow and shear margins one to
two pixels wide, faults that rupture the surface (locking depth 0.3-2 px, a step across the
trace), landslide bodies whose flanks and head scarp are 0.5-2 px wide (:func:`sharp_body_field`;
only the toe, where the ground is compressed, keeps a taper the image can hold).

Fields never fold over themselves: gradients along the motion stay below about 0.7 px/px, so the
secondary image is a faithful view of the moved ground (see warp.consistent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .displacement import landslide_field

KINDS = ("glacier", "fault", "volcano", "landslide", "none")
MAX_COMPRESSION = 0.7  # largest gradient along the motion, px per px


@dataclass
class Field:
    """A displacement field and how it was drawn.

    Attributes:
        kind: one of :data:`KINDS`.
        dy: displacement down, pixels.
        dx: displacement right, pixels.
        params: the drawn parameters (for cards and debugging).
    """

    kind: str
    dy: np.ndarray
    dx: np.ndarray
    params: dict[str, float] = field(default_factory=dict)

    @property
    def magnitude(self) -> np.ndarray:
        return np.hypot(self.dy, self.dx)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    return rows, cols


def glacier_field(
    shape: tuple[int, int],
    centre: tuple[float, float],
    direction_deg: float,
    half_width: float,
    max_px: float,
    profile_power: float = 3.0,
    meander: tuple[float, float] = (0.0, 300.0),
    along_gradient: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ice flowing down a winding channel.

    Args:
        shape: (rows, cols).
        centre: (row, col) of a point on the centreline.
        direction_deg: flow direction as a map azimuth, degrees clockwise from up (north).
        half_width: half the channel width, pixels.
        max_px: speed on the centreline at ``centre``, pixels.
        profile_power: exponent of the cross-profile; 2 is parabolic, larger is plug-like.
        meander: (amplitude, wavelength) of the centreline's sideways sine, pixels.
        along_gradient: relative change of speed per pixel along the flow (positive: faster
            downstream), kept small so that no ice overtakes ice ahead of it.
    """
    rows, cols = _grid(shape)
    az = np.deg2rad(direction_deg)
    u = np.array([np.sin(az), -np.cos(az)])  # flow axis in (col, row)
    n = np.array([-u[1], u[0]])
    reach = float(np.hypot(*shape)) + 4 * half_width
    t = np.arange(-reach, reach, 0.5)
    amp, wavelength = meander
    side = amp * np.sin(2 * np.pi * t / max(wavelength, 1.0))
    line = np.stack([centre[1] + t * u[0] + side * n[0], centre[0] + t * u[1] + side * n[1]], 1)
    tangent = np.gradient(line, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    # ice only within half_width of the centreline: farther points need no nearest neighbour
    dist, idx = cKDTree(line).query(
        np.stack([cols.ravel(), rows.ravel()], 1), distance_upper_bound=half_width
    )
    inside = np.isfinite(dist)
    dist = np.where(inside, dist, half_width).reshape(shape)
    idx = np.where(inside, idx, 0).reshape(shape)
    across = np.clip(dist / half_width, 0.0, 1.0)
    speed = max_px * (1.0 - across**profile_power) * np.clip(1.0 + along_gradient * t[idx], 0, 2)
    return (speed * tangent[idx, 1]).astype(np.float32), (speed * tangent[idx, 0]).astype(
        np.float32
    )


def fault_field(
    shape: tuple[int, int],
    centre: tuple[float, float],
    strike_deg: float,
    slip_px: float,
    locking_depth_px: float,
    half_length_px: float,
    normal_fraction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Surface motion of a vertical fault slipping from the surface to ``locking_depth_px``.

    Args:
        shape: (rows, cols).
        centre: (row, col) of the rupture's midpoint on the trace.
        strike_deg: trace azimuth, degrees clockwise from up (north).
        slip_px: step across the trace at the midpoint (right-lateral when positive), pixels.
        locking_depth_px: depth of slip; the motion decays over a few times this distance.
        half_length_px: half the rupture length; slip tapers elliptically to zero at the tips.
        normal_fraction: fault-normal step as a fraction of ``slip_px`` (opening when positive).
    """
    rows, cols = _grid(shape)
    az = np.deg2rad(strike_deg)
    s = np.array([np.sin(az), -np.cos(az)])  # along strike (col, row)
    nrm = np.array([-s[1], s[0]])  # to the right of the strike
    rel_c, rel_r = cols - centre[1], rows - centre[0]
    along = rel_c * s[0] + rel_r * s[1]
    x = rel_c * nrm[0] + rel_r * nrm[1]
    taper = np.sqrt(np.clip(1.0 - (along / half_length_px) ** 2, 0.0, 1.0))
    x_safe = np.where(np.abs(x) < 1e-9, 1e-9, x)
    shape_fn = np.arctan(locking_depth_px / x_safe) / np.pi  # +-1/2 at the trace, 0 far away
    # right-lateral: the side to the right of the strike moves backwards along strike
    par = -slip_px * taper * shape_fn
    perp = normal_fraction * slip_px * taper * np.abs(shape_fn) * np.sign(x_safe)
    dx = par * s[0] + perp * nrm[0]
    dy = par * s[1] + perp * nrm[1]
    return dy.astype(np.float32), dx.astype(np.float32)


def sharp_body_field(
    shape: tuple[int, int],
    centre: tuple[float, float],
    semi_axes: tuple[float, float],
    direction_deg: float,
    max_px: float,
    edge_px: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A landslide body moving as one block, with sharp flanks and head scarp.

    The motion is full inside the ellipse and falls to zero across its outline over ``edge_px``
    pixels at the flanks and the head (shear and extension); towards the toe, where the body
    pushes into still ground, the fall widens to the length that keeps the compression under
    :data:`MAX_COMPRESSION`.

    Args:
        shape: (rows, cols).
        centre: (row, col) of the body's centre.
        semi_axes: (along, across) semi-axes in pixels, ``along`` in the direction of motion.
        direction_deg: direction of motion, degrees clockwise from up (north).
        max_px: motion of the body, pixels.
        edge_px: width of the flanks' and head's fall, pixels.
    """
    rows, cols = _grid(shape)
    az = np.deg2rad(direction_deg)
    ux, uy = np.sin(az), -np.cos(az)
    rel_r, rel_c = rows - centre[0], cols - centre[1]
    along = rel_c * ux + rel_r * uy
    across = -rel_c * uy + rel_r * ux
    a, b = semi_axes
    rho = np.sqrt((along / a) ** 2 + (across / b) ** 2)
    # distance inside the outline ~ (1 - rho) / |grad rho|; the outward normal's share along the
    # motion decides how wide the fall must be there
    ga, gb = along / a**2, across / b**2
    grad = np.maximum(np.hypot(ga, gb) / np.maximum(rho, 1e-9), 1e-9)
    inside_px = (1.0 - rho) / grad
    towards_toe = np.clip(ga / np.maximum(np.hypot(ga, gb), 1e-12), 0.0, 1.0)
    # a cosine fall over w px compresses by at most pi/2 * max / w along the normal, and the
    # normal's share along the motion scales both the compression and the width needed
    toe_px = 1.1 * np.pi / 2 * abs(max_px) / MAX_COMPRESSION
    width = np.maximum(edge_px, toe_px * towards_toe)
    t = np.clip(inside_px / width, 0.0, 1.0)
    mag = max_px * 0.5 * (1 - np.cos(np.pi * t))
    return (mag * uy).astype(np.float32), (mag * ux).astype(np.float32)


def mogi_field(
    shape: tuple[int, int], centre: tuple[float, float], depth_px: float, max_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal motion over a Mogi point source; ``max_px`` is the peak radial motion
    (negative for deflation), reached at ``depth / sqrt(2)`` from the centre."""
    rows, cols = _grid(shape)
    rel_r, rel_c = rows - centre[0], cols - centre[1]
    r2 = rel_r**2 + rel_c**2
    peak = (1 / np.sqrt(2)) / 1.5**1.5 / depth_px**2
    scale = max_px / peak / (r2 + depth_px**2) ** 1.5
    return (scale * rel_r).astype(np.float32), (scale * rel_c).astype(np.float32)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _downslope_sites(
    slope: tuple[np.ndarray, np.ndarray] | None, shape: tuple[int, int], rng: np.random.Generator
) -> tuple[tuple[float, float], float]:
    """A site on a steep slope (drawn with probability ~ slope^2) and its downslope azimuth."""
    if slope is None:
        return (rng.uniform(0.2, 0.8) * shape[0], rng.uniform(0.2, 0.8) * shape[1]), float(
            rng.uniform(0, 360)
        )
    gy, gx = slope  # gradients down the rows and along the columns, m per m
    steep = np.hypot(gx, gy) ** 2
    m0, m1 = shape[0] // 6, shape[1] // 6
    weights = np.zeros(shape)
    weights[m0 : shape[0] - m0, m1 : shape[1] - m1] = steep[m0 : shape[0] - m0, m1 : shape[1] - m1]
    if weights.sum() <= 0:
        return _downslope_sites(None, shape, rng)
    k = rng.choice(weights.size, p=(weights / weights.sum()).ravel())
    r, c = np.unravel_index(k, shape)
    # rows grow southwards, so the north gradient is -gy; downslope = -gradient
    return (float(r), float(c)), float(np.rad2deg(np.arctan2(-gx[r, c], gy[r, c])) % 360)


def random_field(
    kind: str,
    shape: tuple[int, int],
    max_px: float,
    rng: np.random.Generator,
    slope: tuple[np.ndarray, np.ndarray] | None = None,
    sharp_share: float = 0.0,
) -> Field:
    """A field of ``kind`` with parameters drawn from ``rng`` and peak motion about ``max_px``.

    Args:
        kind: one of :data:`KINDS`.
        shape: (rows, cols).
        max_px: peak displacement, pixels (ignored for ``none``).
        rng: random generator (the field is reproducible from its state).
        slope: optional (d elevation / d row, d elevation / d col) of the terrain, dimensionless;
            landslides are then placed on steep slopes moving downslope.
        sharp_share: probability that a glacier, fault or landslide has sharp discontinuities
            (see the module's docstring); 0 draws exactly the smooth fields.
    """
    h, w = shape
    size = float(min(h, w))
    centre = (rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w)
    if kind == "none":
        z = np.zeros(shape, np.float32)
        return Field(kind, z, z.copy(), {})
    sharp = sharp_share > 0 and bool(rng.uniform() < sharp_share)
    if kind == "glacier":
        half_width = rng.uniform(0.12, 0.3) * size
        params = {
            "direction_deg": float(rng.uniform(0, 360)),
            "half_width": half_width,
            "profile_power": float(rng.uniform(8.0, 30.0) if sharp else rng.uniform(2.0, 5.0)),
            "meander_amp": float(rng.uniform(0.0, 0.25) * size),
            "meander_wavelength": float(rng.uniform(1.5, 4.0) * size),
            "along_gradient": float(rng.uniform(-0.5, 0.5) / size),
        }
        dy, dx = glacier_field(
            shape,
            centre,
            params["direction_deg"],
            half_width,
            max_px,
            params["profile_power"],
            (params["meander_amp"], params["meander_wavelength"]),
            params["along_gradient"],
        )
    elif kind == "fault":
        normal_fraction = float(rng.uniform(-0.3, 0.3))
        # keep the fault-normal gradient |normal| * slip / (pi * D) under MAX_COMPRESSION
        min_depth = abs(normal_fraction) * 2 * max_px / (np.pi * MAX_COMPRESSION)
        params = {
            "strike_deg": float(rng.uniform(0, 360)),
            "locking_depth_px": max(
                min_depth,
                _log_uniform(rng, 0.3, 2.0)
                if sharp
                else _log_uniform(rng, 0.05 * size, 0.6 * size),
            ),
            "half_length_px": float(rng.uniform(0.6, 3.0) * size),
            "normal_fraction": normal_fraction,
        }
        slip = 2 * max_px * float(rng.choice([-1.0, 1.0]))  # each side moves half the slip
        dy, dx = fault_field(
            shape,
            centre,
            params["strike_deg"],
            slip,
            params["locking_depth_px"],
            params["half_length_px"],
            normal_fraction,
        )
    elif kind == "volcano":
        # deflation compresses the centre in both directions: area ratio (1 - 2.6 max / d)^2
        min_depth = 2.6 * max_px / (1.0 - np.sqrt(1.0 - MAX_COMPRESSION))
        params = {"depth_px": max(min_depth, float(rng.uniform(0.1, 0.6) * size))}
        sign = float(rng.choice([-1.0, 1.0], p=[0.3, 0.7]))
        dy, dx = mogi_field(shape, centre, params["depth_px"], sign * max_px)
    elif kind == "landslide":
        dy = np.zeros(shape, np.float32)
        dx = np.zeros(shape, np.float32)
        params = {"lobes": float(rng.integers(1, 4))}
        for i in range(int(params["lobes"])):
            site, azimuth = _downslope_sites(slope, shape, rng)
            lobe_max = max_px if i == 0 else max_px * rng.uniform(0.3, 1.0)
            # the cosine margin (40% of the semi-axis) must not compress more than allowed
            min_axis = np.pi / 2 * lobe_max / (0.4 * MAX_COMPRESSION)
            if sharp:
                along = rng.uniform(0.1, 0.35) * size
                across = along * rng.uniform(0.4, 1.0)
                edge = float(rng.uniform(0.5, 2.0))
                ly, lx = sharp_body_field(shape, site, (along, across), azimuth, lobe_max, edge)
            else:
                along = max(min_axis, rng.uniform(0.08, 0.3) * size)
                across = max(min_axis, along * rng.uniform(0.4, 1.0))
                ly, lx = landslide_field(shape, site, (along, across), azimuth, lobe_max)
            replace = np.hypot(ly, lx) > np.hypot(dy, dx)
            dy, dx = np.where(replace, ly, dy), np.where(replace, lx, dx)
    else:
        raise ValueError(f"unknown displacement kind {kind!r}; use one of {KINDS}")
    dy, dx = _scale_to_peak(dy, dx, max_px)
    params["max_px"] = float(max_px)
    if sharp:
        params["sharp"] = 1.0
    return Field(kind, dy.astype(np.float32), dx.astype(np.float32), params)


def min_area_ratio(dy: np.ndarray, dx: np.ndarray) -> float:
    """Smallest local area ratio det(I + grad d) of the map p -> p + d(p); 1 for rigid motion and
    simple shear, below 1 where the ground is compressed, 0 where it folds over itself."""
    dyy, dyx = np.gradient(dy.astype(np.float64))
    dxy, dxx = np.gradient(dx.astype(np.float64))
    return float(((1 + dyy) * (1 + dxx) - dyx * dxy).min())


def _scale_to_peak(dy: np.ndarray, dx: np.ndarray, max_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale a field so that its peak in the frame is ``max_px``; scaling up stops where the
    ground would be compressed by more than :data:`MAX_COMPRESSION`."""
    peak = float(np.hypot(dy, dx).max())
    if peak <= 0:
        return dy, dx
    factor = max_px / peak
    while factor > 1.0 and min_area_ratio(factor * dy, factor * dx) < 1.0 - MAX_COMPRESSION:
        factor = 1.0 + 0.5 * (factor - 1.0)
        if factor < 1.01:
            factor = 1.0
    return dy * factor, dx * factor
