"""SAR distortion geometry on hand-made slopes, strips against one pass, grids, bad input."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from geohazard.engine.core.errors import Cancelled, GeohazardError
from geohazard.engine.core.progress import Reporter
from geohazard.engine.dem.terrain import TerrainConfig, fractal_terrain
from geohazard.engine.io.geodesy import metres_per_degree, true_north_azimuth
from geohazard.engine.io.raster_io import Grid, write_raster
from geohazard.engine.sar.sar_distortion import DistortionOptions, sar_distortion
from geohazard.engine.sar.sar_geometry import (
    FORESHORTENING,
    LAYOVER,
    NODATA_CLASS,
    SHADOW,
    UNDISTORTED,
    AcquisitionGeometry,
    classify,
)
from rasterio.crs import CRS

PX = 10.0
UTM = CRS.from_epsg(32633)


def _plane(shape: tuple[int, int], geometry: AcquisitionGeometry, alpha_deg: float) -> np.ndarray:
    """A plane whose slope along the look direction is ``alpha_deg`` (positive: facing sensor)."""
    le, ln = geometry.look_vector()
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    x = cols * PX * le - rows * PX * ln  # metres along the look direction
    return 1000.0 + math.tan(math.radians(alpha_deg)) * x


def _classes(dem: np.ndarray, geometry: AcquisitionGeometry, along: bool = True) -> np.ndarray:
    n = dem.shape[0]
    return classify(dem, np.full(n, PX), np.full(n, -PX), geometry, along_range=along)


GEOMETRIES = [
    AcquisitionGeometry(39.0, -168.0, "right"),  # Sentinel-1 descending: looks west-north-west
    AcquisitionGeometry(39.0, -12.0, "right"),  # ascending: looks east-north-east
    AcquisitionGeometry(30.0, 0.0, "left"),  # left-looking, due west
    AcquisitionGeometry(45.0, 100.0, "right"),  # looking south-south-west (sweeps along rows)
]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=lambda g: f"{g.heading_deg}{g.look}")
@pytest.mark.parametrize("along", [True, False], ids=["along-range", "local"])
def test_planar_slopes_are_classified_by_their_range_slope(geometry, along) -> None:
    theta = geometry.incidence_deg
    cases = [
        (theta + 3.0, LAYOVER),  # facing the sensor, steeper than the incidence
        (theta - 3.0, FORESHORTENING),  # facing the sensor, gentler
        (0.0, UNDISTORTED),
        (-(90.0 - theta) + 3.0, UNDISTORTED),  # facing away, gentler than grazing
        (-(90.0 - theta) - 3.0, SHADOW),  # facing away, steeper than 90 - incidence
    ]
    for alpha, expected in cases:
        cls = _classes(_plane((40, 50), geometry, alpha), geometry, along)
        inner = cls[2:-2, 2:-2]
        assert np.all(inner == expected), (alpha, np.bincount(inner.ravel()))


def _ridge(top_x: float, height: float, fore_deg: float, back_deg: float, n: int) -> np.ndarray:
    """A north-south ridge on flat ground, profile along x = column * PX (eastwards)."""
    x = np.arange(n) * PX
    up = (x - (top_x - height / math.tan(math.radians(fore_deg)))) * math.tan(
        math.radians(fore_deg)
    )
    down = height - (x - top_x) * math.tan(math.radians(back_deg))
    return np.clip(np.where(x < top_x, up, down), 0.0, None)


def test_ridge_casts_shadow_and_passive_layover_of_the_expected_length() -> None:
    theta = 39.0
    east = AcquisitionGeometry(theta, 0.0, "right")  # flying north, looking east
    top, height = 1500.0, 300.0
    dem = np.tile(_ridge(top, height, 50.0, 60.0, 300), (12, 1))
    row = _classes(dem, east)[6]
    t = math.radians(theta)
    # ground nearer the sensor than top - H cot(theta) shares no range cell with the ridge
    first_layover = np.flatnonzero(row == LAYOVER)[0] * PX
    assert first_layover == pytest.approx(top - height / math.tan(t), abs=PX)
    # behind the top, the shadow ends H tan(theta) further
    last_shadow = np.flatnonzero(row == SHADOW)[-1] * PX
    assert last_shadow == pytest.approx(top + height * math.tan(t), abs=PX)
    assert np.all(row[: int(first_layover / PX)] == UNDISTORTED)
    assert np.all(row[int(last_shadow / PX) + 1 :] == UNDISTORTED)
    # only the local slopes are distorted without the along-range tests
    local = _classes(dem, east, along=False)[6]
    assert set(np.unique(local[: int((top - 300) / PX)])) == {UNDISTORTED}
    assert np.all(local[151:165] == SHADOW)  # the 60-degree back slope itself


def test_gentle_ridge_shadows_ground_behind_a_tall_neighbour() -> None:
    """Passive shadow: a backslope gentler than grazing is still hidden by a taller ridge."""
    east = AcquisitionGeometry(39.0, 0.0, "right")
    z = _ridge(1000.0, 600.0, 30.0, 55.0, 300)
    # a 30 m hill 450 m behind the crest, where the grazing ray is still 44 m above ground
    z += _ridge(1450.0, 30.0, 20.0, 20.0, 300)
    row = _classes(np.tile(z, (10, 1)), east)[5]
    shadow_end = 1000.0 + 600.0 * math.tan(math.radians(39.0))
    assert row[145] == SHADOW  # the small hill's top is hidden
    assert np.all(row[int(shadow_end / PX) + 2 :] != SHADOW)
    assert _classes(np.tile(z, (10, 1)), east, along=False)[5][145] == UNDISTORTED


def test_nodata_is_kept_and_does_not_cast_shadow() -> None:
    east = AcquisitionGeometry(39.0, 0.0, "right")
    dem = np.tile(_ridge(800.0, 300.0, 30.0, 30.0, 200), (8, 1)).astype(np.float32)
    dem[:, 70:90] = np.nan
    cls = _classes(dem, east)
    assert np.all(cls[:, 70:90] == NODATA_CLASS)
    assert np.all(cls[:, :60] != NODATA_CLASS)


def _write(path: Path, dem: np.ndarray, grid: Grid) -> str:
    return write_raster(str(path), dem[None].astype(np.float32), grid, ["elevation (m)"])


def _rugged(shape: tuple[int, int], seed: int = 4) -> np.ndarray:
    return fractal_terrain(shape, seed, TerrainConfig(relief_m=900.0, base_m=300.0, beta=2.4))


@pytest.mark.parametrize("heading", [-168.0, 100.0], ids=["rows", "columns"])
def test_strips_with_margin_equal_one_pass(tmp_path, heading) -> None:
    dem = _rugged((600, 560))
    grid = Grid(UTM, Affine(PX, 0, 500_000.0, 0, -PX, 5_000_000.0), 560, 600)
    src = _write(tmp_path / "dem.tif", dem, grid)
    geometry = AcquisitionGeometry(39.0, heading)
    one, strips = str(tmp_path / "one.tif"), str(tmp_path / "strips.tif")
    res = sar_distortion(src, one, geometry, DistortionOptions(strip_pixels=10**9))
    sar_distortion(src, strips, geometry, DistortionOptions(strip_pixels=50_000))
    with rasterio.open(one) as a, rasterio.open(strips) as b:
        assert a.dtypes[0] == "uint8" and a.nodata == NODATA_CLASS and a.crs == UTM
        assert np.array_equal(a.read(1), b.read(1))
        cls = a.read(1)
    assert {LAYOVER, SHADOW, FORESHORTENING} <= set(np.unique(cls))
    assert sum(res[k] for k in res if k.endswith("_percent")) == pytest.approx(100.0)
    rot = true_north_azimuth(grid)
    direct = classify(dem, np.full(600, PX), np.full(600, -PX), geometry, rot)
    assert np.array_equal(cls, direct)


def test_geographic_dem_gives_the_classes_of_the_same_terrain_in_metres(tmp_path) -> None:
    dem = _rugged((200, 220), seed=9)
    lat0 = 45.5
    per_lon, per_lat = metres_per_degree(np.array(lat0))
    dlon, dlat = PX / float(per_lon), PX / float(per_lat)  # ~10 m pixels at 45.5 N
    geo = Grid(CRS.from_epsg(4326), Affine(dlon, 0, 6.0, 0, -dlat, lat0 + 100 * dlat), 220, 200)
    src = _write(tmp_path / "geo.tif", dem, geo)
    out = str(tmp_path / "cls.tif")
    sar_distortion(src, out, AcquisitionGeometry())
    with rasterio.open(out) as f:
        cls = f.read(1)
    metric = classify(dem, np.full(200, PX), np.full(200, -PX), AcquisitionGeometry())
    assert np.mean(cls == metric) > 0.995  # only rounding of metres per degree across rows


def test_grid_convergence_of_utm_east_of_the_central_meridian() -> None:
    # UTM 33N (central meridian 15 E) around 17.5 E, 45 N: grid north is east of true north
    x, y = 697_000.0, 4_987_000.0
    grid = Grid(UTM, Affine(PX, 0, x, 0, -PX, y), 100, 100)
    gamma = true_north_azimuth(grid)
    assert gamma == pytest.approx(-2.5 * math.sin(math.radians(45.0)), abs=0.15)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _assert_refused(tmp_path: Path, src: str, match: str, **kwargs) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    before = _digest(src)
    with pytest.raises(GeohazardError, match=match):
        sar_distortion(src, str(out_dir / "c.tif"), **kwargs)
    assert _digest(src) == before
    assert list(out_dir.iterdir()) == []


def test_bad_input_is_refused_with_one_sentence_and_nothing_left(tmp_path) -> None:
    dem = _rugged((300, 300))
    good = Grid(UTM, Affine(PX, 0, 500_000.0, 0, -PX, 5_000_000.0), 300, 300)
    no_crs = _write(tmp_path / "nocrs.tif", dem, Grid(None, good.transform, 300, 300))
    _assert_refused(tmp_path, no_crs, "no coordinate reference system", geometry=GEOMETRIES[0])
    rotated = Grid(UTM, Affine(7.0, 7.0, 500_000.0, 7.0, -7.0, 5_000_000.0), 300, 300)
    _assert_refused(tmp_path, _write(tmp_path / "rot.tif", dem, rotated), "rotated or sheared",
                    geometry=GEOMETRIES[0])  # fmt: skip
    empty = _write(tmp_path / "empty.tif", np.full((300, 300), np.nan), good)
    _assert_refused(tmp_path, empty, "no valid elevation", geometry=GEOMETRIES[0])
    two = str(tmp_path / "two.tif")
    write_raster(two, np.stack([dem, dem]), good, ["a", "b"])
    _assert_refused(tmp_path, two, "2 bands", geometry=GEOMETRIES[0])
    src = _write(tmp_path / "dem.tif", dem, good)
    _assert_refused(tmp_path, src, "incidence angle", geometry=AcquisitionGeometry(85.0))
    _assert_refused(tmp_path, src, "right or left", geometry=AcquisitionGeometry(look="up"))
    progress: list[float] = []
    cancel = Reporter(progress=progress.append, is_canceled=lambda: max(progress, default=0) > 0.3)
    with pytest.raises(Cancelled):
        sar_distortion(
            src,
            str(tmp_path / "out" / "c.tif"),
            GEOMETRIES[0],
            DistortionOptions(strip_pixels=20_000),
            cancel,
        )
    assert list((tmp_path / "out").iterdir()) == []
