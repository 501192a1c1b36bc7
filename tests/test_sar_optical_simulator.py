"""Simulated Sentinel-1 VV/VH over a DEM: land-cover proxy, radiometry of foreshortening,
layover and shadow, speckle statistics, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geohazard.engine.sar.sar_geometry import (
    FORESHORTENING,
    LAYOVER,
    SHADOW,
    UNDISTORTED,
    AcquisitionGeometry,
)
from geohazard.engine.simulate.sar_optical import (
    LandCover,
    land_cover,
    relief_shade,
    simulate_sentinel1,
)

PX = 10.0
EAST = AcquisitionGeometry(39.0, 0.0, "right")  # flying north, looking east


def _metres(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, PX), np.full(n, -PX)


def _ridge_dem(rows: int = 120, cols: int = 400) -> np.ndarray:
    """Flat ground, a slope facing the sensor at 20 deg (foreshortening), a 55 deg wall facing
    it (layover) on a second ridge, and 60 deg back slopes (shadow)."""
    x = np.arange(cols) * PX
    z = np.zeros(cols)
    t20, t55, t60 = (math.tan(math.radians(a)) for a in (20, 55, 60))
    z += np.clip(np.minimum((x - 600) * t20, (1400 - x) * t60), 0, None)
    z += np.clip(np.minimum((x - 2600) * t55, (3000 - x) * t60), 0, None)
    return np.tile(z, (rows, 1))


def _forest(shape: tuple[int, int]) -> LandCover:
    return LandCover(water=np.zeros(shape, bool), vegetation=np.ones(shape, np.float32))


def test_land_cover_proxy_from_reflectances() -> None:
    green = np.array([0.08, 0.06, 0.15])
    red = np.array([0.05, 0.04, 0.20])
    nir = np.array([0.03, 0.45, 0.25])  # water, forest, bare rock
    cover = land_cover(green, red, nir)
    assert cover.water.tolist() == [True, False, False]
    assert cover.vegetation[1] == pytest.approx(1.0) and cover.vegetation[2] < 0.1
    assert cover.vegetation[0] == 0.0


def test_distortions_have_the_radiometry_of_a_sar_image() -> None:
    dem = _ridge_dem()
    col, row = _metres(dem.shape[0])
    sim = simulate_sentinel1(dem, col, row, _forest(dem.shape), EAST, seed=3, looks=50.0)
    db = 10 * np.log10(sim.vv[10:-10])
    cls = sim.classes[10:-10]
    mean = {
        k: float(np.median(db[cls == k])) for k in (UNDISTORTED, FORESHORTENING, LAYOVER, SHADOW)
    }
    flat = mean[UNDISTORTED]
    assert -9.5 < flat < -6.0  # forest gamma0 about -7.5 dB times cos(39 deg)
    assert mean[FORESHORTENING] > flat + 1.5  # compressed slopes are bright
    assert mean[LAYOVER] > mean[FORESHORTENING]  # signal of several slopes in one cell
    assert mean[SHADOW] < -20.0  # only the noise floor (-23 dB) comes back
    assert float(np.median(10 * np.log10(sim.vh[10:-10][cls == UNDISTORTED]))) < flat - 3


def test_water_is_dark_and_speckle_has_the_requested_looks() -> None:
    shape = (200, 200)
    dem = np.zeros(shape)
    col, row = _metres(shape[0])
    water = np.zeros(shape, bool)
    water[:, :100] = True
    cover = LandCover(water=water, vegetation=np.where(water, 0.0, 1.0).astype(np.float32))
    sim = simulate_sentinel1(dem, col, row, cover, EAST, seed=5, looks=4.0)
    land = sim.vv[20:-20, 120:-20]
    assert np.median(10 * np.log10(sim.vv[20:-20, 20:80])) < np.median(10 * np.log10(land)) - 6
    # equivalent number of looks over homogeneous ground, after removing the smooth texture
    from scipy import ndimage

    ratio = land / ndimage.uniform_filter(land, 15)
    enl = 1.0 / np.var(ratio)
    assert 2.5 < enl < 6.0


def test_same_seed_same_scene_other_seed_other_speckle() -> None:
    dem = _ridge_dem(40, 200)
    col, row = _metres(40)
    a = simulate_sentinel1(dem, col, row, _forest(dem.shape), EAST, seed=1)
    b = simulate_sentinel1(dem, col, row, _forest(dem.shape), EAST, seed=1)
    c = simulate_sentinel1(dem, col, row, _forest(dem.shape), EAST, seed=2)
    assert np.array_equal(a.vv, b.vv) and np.array_equal(a.vh, b.vh)
    assert not np.allclose(a.vv, c.vv)
    assert a.parameters["seed"] == 1.0 and "vegetation_vv" in a.parameters


def test_relief_shading_is_one_on_flat_ground_and_darkens_slopes_facing_away() -> None:
    dem = _ridge_dem(30, 200)
    col, row = _metres(30)
    shade = relief_shade(dem, col, row, sun_azimuth_deg=90.0)  # sun in the east
    assert shade[15, 20] == pytest.approx(1.0, abs=1e-5)
    lit = math.sin(math.radians(45.0))  # sun 45 degrees up
    # the 20 deg slope faces west, away from the sun: incidence 65 deg
    assert shade[15, 100] == pytest.approx(0.3 + 0.7 * math.cos(math.radians(65)) / lit, rel=1e-3)
    # the 60 deg slope faces east, towards it: incidence 15 deg
    assert shade[15, 130] == pytest.approx(0.3 + 0.7 * math.cos(math.radians(15)) / lit, rel=1e-3)
