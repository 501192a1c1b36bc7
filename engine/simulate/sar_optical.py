"""Simulated Sentinel-1 VV/VH backscatter over a real DEM, paired with a real optical image.

What it is (every output is named simulated): a land-cover proxy from the optical bands (water
from NDWI, vegetation fraction from NDVI, bare soil or rock otherwise) gives each ground pixel a
C-band backscatter per unit area (gamma0 per class and polarisation, drawn per scene from
published ranges), scaled by the local incidence angle; the ground is then projected into
radar geometry (azimuth along the track, slant range ``x sin(theta) - z cos(theta)``) and its
power summed per resolution cell, so foreshortened slopes come out bright, layover slopes mix
their signal with the ground sharing their range cells, and shadowed ground returns nothing
(only the noise floor). Multiplicative gamma speckle (a few looks, like a GRD product) is
applied per radar cell, and the cells are geocoded back onto the DEM grid, as an orthorectified
sigma0 product (no radiometric terrain flattening) would be.

What it is not: a focusing simulator (no phase, no impulse response beyond one cell, no
multipath or double bounce, no urban scattering, one incidence angle per scene).

The optical image is the real one (reflectance, blue/green/red/NIR). When the DEM and optical do
not cover the same ground (nothing offline pairs a mountain DEM with a Sentinel-2 scene), the
optical crop is laid onto the DEM grid and, by default, shaded by the DEM under a morning sun
(:func:`relief_shade`), so the target shows the relief the SAR sees; such pairs are synthetic
and the outputs say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..sar.sar_geometry import (
    SHADOW,
    AcquisitionGeometry,
    classify,
    ground_range,
    local_incidence_cos,
)


@dataclass(frozen=True)
class LandCover:
    """Land-cover proxy on the scene grid.

    Attributes:
        water: True where the optical bands say open water (NDWI > 0 and dark NIR).
        vegetation: vegetation fraction 0..1 from NDVI (0 on water).
    """

    water: np.ndarray
    vegetation: np.ndarray


def land_cover(
    green: np.ndarray, red: np.ndarray, nir: np.ndarray, water_nir_max: float = 0.12
) -> LandCover:
    """Water from NDWI (McFeeters 1996), vegetation fraction from NDVI, from reflectances 0..1."""
    eps = 1e-6
    ndvi = (nir - red) / (nir + red + eps)
    ndwi = (green - nir) / (green + nir + eps)
    water = (ndwi > 0.0) & (nir < water_nir_max)
    vegetation = np.clip((ndvi - 0.15) / 0.5, 0.0, 1.0)
    vegetation[water] = 0.0
    return LandCover(water=water, vegetation=vegetation.astype(np.float32))


@dataclass(frozen=True)
class BackscatterModel:
    """gamma0 (dB) per class and polarisation, and the angular exponent of each class.

    Ranges from Sentinel-1 IW observations in the literature (e.g. forest VV about -7 dB and VH
    about -13 dB nearly independent of angle; bare soil and rock -8 to -14 VV; calm to windy
    water -25 to -15 VV). Each scene draws its own values inside the ranges.
    """

    vegetation_vv: tuple[float, float] = (-8.5, -6.5)
    vegetation_vh: tuple[float, float] = (-14.5, -12.5)
    bare_vv: tuple[float, float] = (-14.0, -8.0)
    bare_vh: tuple[float, float] = (-23.0, -17.0)
    water_vv: tuple[float, float] = (-25.0, -15.0)
    water_vh_below_vv: tuple[float, float] = (7.0, 10.0)
    # sigma0 ~ cos(local incidence)^p: volume scattering ~1, rough surfaces ~2, water steeper
    exponent_vegetation: float = 1.0
    exponent_bare: float = 2.0
    exponent_water: float = 4.0
    texture_db: float = 1.0  # standard deviation of a smooth within-class texture
    nesz_db: float = -23.0  # noise-equivalent sigma0 of Sentinel-1 IW (about -22 to -26)


@dataclass
class SimulatedSar:
    """A simulated acquisition on the DEM grid.

    Attributes:
        vv, vh: sigma0 (linear power), as a calibrated, orthorectified GRD product.
        classes: distortion classes (engine.sar.sar_geometry): 0 undistorted .. 3 shadow.
        parameters: what was drawn for this scene (for the card/report).
    """

    vv: np.ndarray
    vh: np.ndarray
    classes: np.ndarray
    parameters: dict[str, float] = field(default_factory=dict)


def _gamma0_db(
    cover: LandCover, model: BackscatterModel, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    draw = {
        name: float(rng.uniform(*getattr(model, name)))
        for name in ("vegetation_vv", "vegetation_vh", "bare_vv", "bare_vh", "water_vv")
    }
    draw["water_vh"] = draw["water_vv"] - float(rng.uniform(*model.water_vh_below_vv))
    fv = cover.vegetation.astype(np.float64)
    vv = fv * draw["vegetation_vv"] + (1 - fv) * draw["bare_vv"]
    vh = fv * draw["vegetation_vh"] + (1 - fv) * draw["bare_vh"]
    vv = np.where(cover.water, draw["water_vv"], vv)
    vh = np.where(cover.water, draw["water_vh"], vh)
    for band in (vv, vh):
        tex = ndimage.gaussian_filter(rng.standard_normal(band.shape), 3.0)
        band += model.texture_db * tex / (tex.std() + 1e-12)
    return vv, vh, draw


def _splat(
    values: np.ndarray, ai: np.ndarray, ri: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Sum ``values`` into a (azimuth, range) cell grid with bilinear weights."""
    a0, r0 = np.floor(ai).astype(np.int64), np.floor(ri).astype(np.int64)
    fa, fr = ai - a0, ri - r0
    out = np.zeros(shape[0] * shape[1])
    for da, wa in ((0, 1 - fa), (1, fa)):
        for dr, wr in ((0, 1 - fr), (1, fr)):
            idx = (a0 + da) * shape[1] + (r0 + dr)
            out += np.bincount(idx.ravel(), (values * wa * wr).ravel(), out.size)
    return out.reshape(shape)


def simulate_sentinel1(
    dem: np.ndarray,
    col_m: np.ndarray,
    row_m: np.ndarray,
    cover: LandCover,
    geometry: AcquisitionGeometry,
    seed: int,
    looks: float = 4.4,
    model: BackscatterModel | None = None,
    grid_rotation_deg: float = 0.0,
) -> SimulatedSar:
    """Simulated Sentinel-1 VV and VH sigma0 of a DEM (see the module documentation).

    Args:
        dem: elevations in metres on the scene grid (no NaN).
        col_m, row_m: signed metres per column/row step, per row (engine.io.geodesy.row_metres).
        cover: land cover on the same grid.
        geometry: incidence, heading and look direction.
        seed: random seed (backscatter draws, texture, speckle); same seed, same scene.
        looks: equivalent number of looks of the speckle (Sentinel-1 IW GRDH: about 4.4).
        model: backscatter model. Default :class:`BackscatterModel`.
        grid_rotation_deg: azimuth of true north in the grid.
    """
    mdl = model or BackscatterModel()
    rng = np.random.default_rng(seed)
    z = dem.astype(np.float64)
    theta = math.radians(geometry.incidence_deg)
    classes = classify(z, col_m, row_m, geometry, grid_rotation_deg)
    cos_loc = np.clip(local_incidence_cos(z, col_m, row_m, geometry, grid_rotation_deg), 0.0, 1.0)
    gy, gx = np.gradient(z)
    slope_cos = 1.0 / np.sqrt(
        1 + (gx / np.asarray(col_m)[:, None]) ** 2 + (gy / np.asarray(row_m)[:, None]) ** 2
    )
    area = np.abs(np.asarray(col_m) * np.asarray(row_m))[:, None] / slope_cos
    vv_db, vh_db, params = _gamma0_db(cover, mdl, rng)
    exponent = np.where(
        cover.water,
        mdl.exponent_water,
        cover.vegetation * mdl.exponent_vegetation + (1 - cover.vegetation) * mdl.exponent_bare,
    )
    angular = cos_loc**exponent / math.cos(theta) ** (exponent - 1)
    lit = classes != SHADOW
    # radar coordinates: azimuth along the track, slant range, in cells of one pixel
    le, ln = geometry.look_vector(grid_rotation_deg)
    he, hn = (ln, -le) if geometry.look == "right" else (-ln, le)  # track direction
    pixel = float(min(np.min(np.abs(col_m)), np.min(np.abs(row_m))))
    x = ground_range(z.shape, col_m, row_m, (le, ln))
    az = ground_range(z.shape, col_m, row_m, (he, hn))
    ai = (az - az.min()) / pixel
    ri = (x * math.sin(theta) - z * math.cos(theta)) / (pixel * math.sin(theta))
    ri -= ri.min()
    shape = (int(ai.max()) + 2, int(ri.max()) + 2)
    nesz = 10 ** (mdl.nesz_db / 10)
    reference_area = pixel * pixel  # ground area of one cell on flat terrain
    bands = []
    for db in (vv_db, vh_db):
        power = np.where(lit, 10 ** (db / 10) * angular * area, 0.0)
        cells = _splat(power, ai, ri, shape) / reference_area + nesz
        cells *= rng.gamma(looks, 1.0 / looks, size=shape)
        geocoded = ndimage.map_coordinates(cells, [ai, ri], order=1, mode="nearest")
        bands.append(geocoded.astype(np.float32))
    params.update(looks=float(looks), nesz_db=mdl.nesz_db, seed=float(seed))
    return SimulatedSar(vv=bands[0], vh=bands[1], classes=classes, parameters=params)


def relief_shade(
    dem: np.ndarray,
    col_m: np.ndarray,
    row_m: np.ndarray,
    sun_azimuth_deg: float = 150.0,
    sun_elevation_deg: float = 45.0,
    ambient: float = 0.3,
) -> np.ndarray:
    """Illumination factor of a DEM under the sun, 1 on flat ground (Lambertian + ambient).

    Defaults: a mid-latitude Sentinel-2 morning overpass (sun in the south-east, 45 degrees up).
    """
    # local_incidence_cos measures against a sensor opposite the look direction: look away
    # from the sun (heading so that heading + 90 = sun azimuth + 180)
    sun = AcquisitionGeometry(
        incidence_deg=90.0 - sun_elevation_deg, heading_deg=sun_azimuth_deg + 90.0
    )
    cos_i = np.clip(local_incidence_cos(dem, col_m, row_m, sun), 0.0, None)
    flat = math.sin(math.radians(sun_elevation_deg))
    return (ambient + (1 - ambient) * cos_i / flat).astype(np.float32)


@dataclass
class SimulatedScene:
    """A simulated SAR image paired with a real optical image on one grid.

    Attributes:
        sar: (2, H, W) VV and VH sigma0 (linear), simulated.
        rgb: (3, H, W) red, green, blue reflectance of the real optical image (relief-shaded
            when ``shaded``).
        classes: distortion classes of the simulated acquisition.
        parameters: geometry and drawn backscatter values, for the record.
        shaded: whether the optical image was relief-shaded with the DEM.
    """

    sar: np.ndarray
    rgb: np.ndarray
    classes: np.ndarray
    parameters: dict[str, float]
    shaded: bool


def simulated_scene(
    dem: np.ndarray,
    col_m: np.ndarray,
    row_m: np.ndarray,
    optical: np.ndarray,
    geometry: AcquisitionGeometry,
    seed: int,
    shade: bool = True,
    grid_rotation_deg: float = 0.0,
) -> SimulatedScene:
    """Pair a simulated Sentinel-1 image of ``dem`` with the real ``optical`` image.

    Args:
        dem: elevations (m) on the scene grid, no NaN.
        col_m, row_m: signed metres per column/row step, per row.
        optical: (4, H, W) blue, green, red, near-infrared reflectance (0..1) on the same grid.
        geometry: the simulated acquisition.
        seed: random seed of the SAR simulation.
        shade: relief-shade the optical target with the DEM (for an optical image that does
            not show this DEM's ground; leave False for a co-located image).
        grid_rotation_deg: azimuth of true north in the grid.
    """
    blue, green, red, nir = (optical[i].astype(np.float64) for i in range(4))
    cover = land_cover(green, red, nir)
    sim = simulate_sentinel1(
        dem, col_m, row_m, cover, geometry, seed, grid_rotation_deg=grid_rotation_deg
    )
    rgb = np.stack([red, green, blue]).astype(np.float32)
    if shade:
        rgb = rgb * relief_shade(dem, col_m, row_m)[None]
    params = dict(sim.parameters)
    params.update(
        incidence_deg=geometry.incidence_deg,
        heading_deg=geometry.heading_deg,
        water_fraction=float(cover.water.mean()),
        vegetation_mean=float(cover.vegetation.mean()),
    )
    return SimulatedScene(
        sar=np.stack([sim.vv, sim.vh]), rgb=rgb, classes=sim.classes, parameters=params,
        shaded=shade,
    )  # fmt: skip
