"""Grids that are not north-up: both trackers, SAR distortion and landslide areas refuse a
rotated or sheared reference with the same sentence, before any work and with nothing written
(their rows and columns are not east and north, and the offsets would be in the wrong axes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from deep_offset_models import save_tiny_model
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from sar_pairs import write_pair

SENTENCE = "is on a rotated or sheared grid; warp it to a north-up grid"


def _rotated_copy(src_path: str, dst_path: Path, degrees: float = 20.0) -> str:
    with rasterio.open(src_path) as src:
        data, profile = src.read(), src.profile
    profile["transform"] = src.transform * Affine.rotation(degrees)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(data)
    return str(dst_path)


@pytest.fixture
def rotated_pair(tmp_path: Path) -> tuple[str, str]:
    folder = tmp_path / "in"
    folder.mkdir()
    dy, dx = displacement.uniform_field((128, 128), 0.5, -1.5)
    ref, sec = write_pair(folder, dy, dx)
    return _rotated_copy(ref, tmp_path / "ref_rot.tif"), _rotated_copy(
        sec, tmp_path / "sec_rot.tif"
    )


def _refused(alg: str, params: dict, out_dir: Path) -> None:
    import processing

    with pytest.raises(QgsProcessingException, match=SENTENCE):
        processing.run(alg, params, feedback=QgsProcessingFeedback())
    assert list(out_dir.iterdir()) == []


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_both_trackers_refuse_a_rotated_reference(plugin, rotated_pair, tmp_path, out_dir) -> None:
    ref, sec = rotated_pair
    _refused(
        "geohazard:offsettracking",
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "WINDOW_SIZES": "32",
            "SEARCH": 6,
            "OUTPUT": str(out_dir / "c.tif"),
        },
        out_dir,
    )
    tiny = save_tiny_model(tmp_path / "models", "tiny_rot", "zero")
    _refused(
        "geohazard:deepoffsettracking",
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "MODEL": tiny,
            "DEVICE": 1,
            "OUTPUT": str(out_dir / "d.tif"),
        },
        out_dir,
    )


def test_sar_distortion_refuses_a_rotated_dem_with_the_same_sentence(
    plugin, tmp_path, out_dir
) -> None:
    dem = np.linspace(0, 500, 64 * 64, dtype=np.float32).reshape(64, 64)
    path = tmp_path / "dem_rot.tif"
    profile = {
        "driver": "GTiff",
        "width": 64,
        "height": 64,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:32633",
        "transform": Affine(30, 0, 500000, 0, -30, 4000000) * Affine.rotation(15),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem[None])
    _refused(
        "geohazard:sardistortion", {"DEM": str(path), "OUTPUT": str(out_dir / "s.tif")}, out_dir
    )
