"""Engine: arrow points on a spacing, azimuth convention, cell means and units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from displacement_rasters import ORIGIN, two_lobes, uniform
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.displacement.arrows import displacement_arrows


@pytest.mark.parametrize(
    ("east", "north", "azimuth"),
    [(0.0, 2.0, 0.0), (2.0, 0.0, 90.0), (0.0, -2.0, 180.0), (-2.0, 0.0, 270.0), (-1, 1, 315.0)],
)
def test_azimuth_is_clockwise_from_north(tmp_path: Path, east, north, azimuth) -> None:
    res = displacement_arrows(uniform(tmp_path / "u.tif", east, north), 100.0)
    assert len(res.points) == 24  # 600 m x 400 m in 100 m cells
    for record in res.attributes:
        assert record["azimuth"] == pytest.approx(azimuth, abs=1e-4)
        assert record["magnitude"] == pytest.approx(np.hypot(east, north), rel=1e-6)
    xs = sorted({x for x, _ in res.points})
    ys = sorted({y for _, y in res.points}, reverse=True)
    assert xs[0] == pytest.approx(ORIGIN[0] + 50) and ys[0] == pytest.approx(ORIGIN[1] - 50)


def test_cell_means_units_and_missing_sigma(tmp_path: Path) -> None:
    res = displacement_arrows(two_lobes(tmp_path / "v.tif", bands=4, units="m/yr"), 50.0, 0.5)
    assert {r["units"] for r in res.attributes} == {"m/yr"}
    assert all(np.isnan(r["sigma"]) for r in res.attributes)
    west = [r for r in res.attributes if abs(r["azimuth"] - 270) < 3]
    assert len(west) == 48  # lobe B fills 6 x 8 cells of 50 m exactly


def test_bad_spacing_is_one_sentence(tmp_path: Path) -> None:
    path = uniform(tmp_path / "u.tif", 1.0, 0.0)
    with pytest.raises(GeohazardError, match="positive"):
        displacement_arrows(path, 0.0)
    with pytest.raises(GeohazardError, match="larger spacing"):
        displacement_arrows(path, 1e-3)
