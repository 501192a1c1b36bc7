"""Engine: landslide-area polygons from a displacement field with two known lobes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from displacement_rasters import PX, lobe_masks, tilted_dem, two_lobes
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.displacement.field import raster_units
from geohazard.engine.displacement.landslide_areas import (
    LandslideConfig,
    clean_mask,
    landslide_areas,
)

# Areas within 2% of the lobes' pixel areas: the 3 x 3 closing may add the odd concave pixel
# of a digital disk, and holes are filled back to the lobe's outline.
AREA_TOLERANCE = 0.02


def test_two_lobes_give_two_polygons_with_their_areas_and_attributes(tmp_path: Path) -> None:
    path = two_lobes(tmp_path / "d.tif")
    dem = tilted_dem(tmp_path / "dem.tif")
    res = landslide_areas(path, LandslideConfig(threshold=0.5, min_area_m2=1000.0), dem)
    assert len(res.geometries) == 2
    a, b = lobe_masks()
    by_azimuth = sorted(res.attributes, key=lambda r: r["azimuth"])
    east_lobe, west_lobe = by_azimuth
    assert east_lobe["area_m2"] == pytest.approx(a.sum() * PX * PX, rel=AREA_TOLERANCE)
    assert west_lobe["area_m2"] == pytest.approx(b.sum() * PX * PX, rel=AREA_TOLERANCE)
    assert east_lobe["azimuth"] == pytest.approx(90.0, abs=1.0)
    assert west_lobe["azimuth"] == pytest.approx(270.0, abs=1.0)
    assert east_lobe["mean_disp"] == pytest.approx(2.0, abs=0.05)
    assert west_lobe["mean_disp"] == pytest.approx(1.0, abs=0.05)
    assert east_lobe["max_disp"] > east_lobe["mean_disp"]
    for lobe in (east_lobe, west_lobe):
        assert lobe["slope"] == pytest.approx(np.degrees(np.arctan(0.2)), abs=0.1)
        assert lobe["aspect"] == pytest.approx(90.0, abs=0.5)
        assert lobe["quality"] == pytest.approx(0.6, abs=1e-6)
        assert lobe["sigma"] == pytest.approx(0.1, abs=1e-5)
        assert lobe["units"] == "m"
    # the east lobe moves down the eastward-falling plane, the west lobe uphill
    assert east_lobe["downslope"] is True
    assert west_lobe["downslope"] is False
    assert "POLYGON" in res.geometries[0] and res.crs_wkt


def test_hole_filled_speck_and_uncertain_patch_dropped(tmp_path: Path) -> None:
    path = two_lobes(tmp_path / "d.tif")
    res = landslide_areas(path, LandslideConfig(threshold=0.5, min_area_m2=1000.0))
    _, b = lobe_masks()
    assert len(res.attributes) == 2  # no speck (400 m2), no uncertain patch (moves 1 +- 2)
    west = [r for r in res.attributes if r["azimuth"] > 180][0]
    assert west["pixels"] == b.sum()  # the 3 x 3 NaN hole is filled
    assert west["downslope"] is None and np.isnan(west["slope"])  # no DEM


def test_without_uncertainty_bands_the_uncertain_patch_counts(tmp_path: Path) -> None:
    path = two_lobes(tmp_path / "d4.tif", bands=4)
    messages: list[str] = []
    from geohazard.engine.core.progress import Reporter

    res = landslide_areas(
        path,
        LandslideConfig(threshold=0.5, min_area_m2=1000.0),
        None,
        Reporter(warning=messages.append),
    )
    assert len(res.attributes) == 3  # the 6 x 6 patch (3600 m2) now counts
    assert any("uncertainty" in m for m in messages)
    assert all(np.isnan(r["sigma"]) for r in res.attributes)


def test_velocity_raster_units_and_threshold_in_them(tmp_path: Path) -> None:
    path = two_lobes(tmp_path / "v.tif", units="m/yr")
    res = landslide_areas(path, LandslideConfig(threshold=1.5, min_area_m2=1000.0))
    assert [r["units"] for r in res.attributes] == ["m/yr"]  # only the 2 m/yr lobe
    assert raster_units(("a", "b", None), {"UNITS": "m/yr"}) == "m/yr"
    assert raster_units(("east (m)", "north (m)", None), {}) == "m"


def test_slope_mask_drops_gentle_ground(tmp_path: Path) -> None:
    path = two_lobes(tmp_path / "d.tif")
    dem = tilted_dem(tmp_path / "dem.tif", gradient_east=-0.05)  # about 2.9 deg
    res = landslide_areas(path, LandslideConfig(min_slope_deg=5.0), dem)
    assert res.attributes == []


def test_closing_bridges_one_pixel_gap() -> None:
    moving = np.zeros((20, 20), dtype=bool)
    moving[5:15, 2:9] = True
    moving[5:15, 10:17] = True  # one empty column between
    from scipy import ndimage

    assert ndimage.label(clean_mask(moving, 1))[1] == 1
    assert ndimage.label(clean_mask(moving, 0))[1] == 2
    edge = np.zeros((10, 10), dtype=bool)
    edge[:, :4] = True
    assert clean_mask(edge, 2).sum() == edge.sum()  # closing never erodes the raster edge


def test_bad_inputs_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(GeohazardError, match="does not exist"):
        landslide_areas(str(tmp_path / "none.tif"), LandslideConfig())
    with pytest.raises(GeohazardError, match="positive"):
        landslide_areas(two_lobes(tmp_path / "d.tif"), LandslideConfig(threshold=0))
