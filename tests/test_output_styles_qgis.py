"""How outputs look when QGIS loads them (issue 14, items 8.3, 8.7, 8.9): smooth resampling of
continuous rasters, legends with units and a sensible precision, a robust stretch for the
difference map, a single-band style for the per-window-size offsets, the residual phase when a
comparison DEM is given, and layer names that keep the file name the user chose."""

from __future__ import annotations

import re

import numpy as np
import pytest
import rasterio
from dem_rasters import utm_dem
from geohazard.engine.raster_io import Grid, write_raster
from processing_runs import loaded_layer, run_and_load, to_load
from qgis.core import (
    QgsApplication,
    QgsBilinearRasterResampler,
    QgsCubicRasterResampler,
    QgsProject,
    QgsSingleBandPseudoColorRenderer,
)
from rasterio.crs import CRS
from sar_pairs import write_pair

SMOOTH = (QgsBilinearRasterResampler, QgsCubicRasterResampler)
LABEL = re.compile(r"^-?\d+(\.\d{1,4})? (?P<unit>m|rad)$")


@pytest.fixture(autouse=True)
def project():
    yield QgsProject.instance()
    QgsProject.instance().removeAllMapLayers()


@pytest.fixture
def dem(tmp_path) -> str:
    return utm_dem(tmp_path / "dem.tif", shape=(24, 24))


def _alg(name: str):  # type: ignore[no-untyped-def]
    return QgsApplication.processingRegistry().createAlgorithmById(f"geohazard:{name}")


def _assert_smooth(layer) -> None:  # type: ignore[no-untyped-def]
    resampler = layer.resampleFilter()
    assert isinstance(resampler.zoomedInResampler(), SMOOTH), layer.name()
    assert isinstance(resampler.zoomedOutResampler(), SMOOTH), layer.name()


def _assert_legend(layer, unit: str) -> None:  # type: ignore[no-untyped-def]
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer), renderer.type()
    labels = [label for label, _colour in renderer.legendSymbologyItems()]
    assert labels, layer.name()
    for label in labels:
        match = LABEL.match(label)
        assert match and match["unit"] == unit, f"legend label {label!r} of {layer.name()}"
    shader = renderer.shader().rasterShaderFunction()
    assert shader.legendSettings().suffix() == f" {unit}"


# Outputs are named files here (the temporary-output case is tests/test_temporary_outputs_qgis.py).


def test_super_resolved_dem_hillshade_is_resampled_smoothly(plugin, dem, tmp_path):
    out = to_load(str(tmp_path / "sr.tif"))
    results, _, _ = run_and_load(
        _alg("demsuperresolution"), {"INPUT": dem, "SCALE": 2, "DEVICE": 1, "OUTPUT": out}
    )
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().type() == "hillshade"
    _assert_smooth(layer)


def test_offsets_and_per_size_outputs_are_single_band_with_units(plugin, tmp_path):
    zero = np.zeros((96, 96))
    ref, sec = write_pair(tmp_path, zero, zero)
    params = {
        "REFERENCE": ref,
        "SECONDARY": sec,
        "WINDOW_SIZES": "16,32",
        "STEP": 16,
        "SEARCH": 4,
        "DEVICE": 1,
        "OUTPUT": to_load(str(tmp_path / "offsets.tif")),
        "PER_SIZE_OUTPUT": to_load(str(tmp_path / "per_size.tif")),
    }
    results, _, _ = run_and_load(_alg("offsettracking"), params)
    offsets = loaded_layer(results["OUTPUT"])
    assert offsets.renderer().band() == 3  # magnitude
    _assert_legend(offsets, "m")
    _assert_smooth(offsets)
    per_size = loaded_layer(results["PER_SIZE_OUTPUT"])
    assert per_size.bandCount() == 6
    # Not a meaningless RGB of east/north/quality: one band, the smallest window's east offset.
    assert per_size.renderer().type() == "singlebandpseudocolor"
    assert per_size.renderer().band() == 1
    _assert_legend(per_size, "m")
    _assert_smooth(per_size)


def _dem_with_spike(path, base: str, spike_m: float, seed: int = 4) -> str:
    with rasterio.open(base) as src:
        data = src.read(1).astype(np.float32)
        grid = Grid(src.crs, src.transform, src.width, src.height)
    rng = np.random.default_rng(seed)
    data = data + rng.normal(0.0, 2.0, data.shape).astype(np.float32)  # 2 m of noise
    data[5, 7] += spike_m  # one wild pixel
    return write_raster(str(path), data[None], grid, ["elevation (m)"])


def test_difference_map_is_stretched_robustly_around_zero(plugin, dem, tmp_path):
    other = _dem_with_spike(tmp_path / "spiky.tif", dem, spike_m=500.0)
    params = {"INPUT": other, "REFERENCE": dem, "OUTPUT": to_load(str(tmp_path / "diff.tif"))}
    results, _, _ = run_and_load(_alg("evaluatedem"), params)
    layer = loaded_layer(results["OUTPUT"])
    renderer = layer.renderer()
    lo, hi = renderer.classificationMin(), renderer.classificationMax()
    assert lo == pytest.approx(-hi)  # symmetric around zero
    # The 2 m noise sets the stretch, not the 500 m spike (the map used to look white).
    assert 2.0 < hi < 10.0, hi
    _assert_legend(layer, "m")
    _assert_smooth(layer)


def test_topographic_phase_shows_the_residual_with_a_comparison_dem(plugin, dem, tmp_path):
    coarse = tmp_path / "coarse.tif"
    with rasterio.open(dem) as src:  # the same area at half the resolution
        data = src.read(1)[::2, ::2]
        transform = src.transform * src.transform.scale(2, 2)
        grid = Grid(CRS.from_epsg(32633), transform, data.shape[1], data.shape[0])
    write_raster(str(coarse), data[None], grid, ["elevation (m)"])
    results, _, feedback = run_and_load(
        _alg("topographicphase"),
        {"INPUT": dem, "COMPARE_DEM": str(coarse), "OUTPUT": to_load(str(tmp_path / "res.tif"))},
    )
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().band() == 3  # residual phase DEM - comparison, unwrapped
    _assert_legend(layer, "rad")
    _assert_smooth(layer)
    log = "\n".join(feedback.messages)
    assert "The comparison raster 'coarse.tif' is on a different grid" in log
    assert "onto the DEM grid" in log
    assert "reference" not in log  # the input is the DEM, not a "reference"


def test_topographic_phase_alone_shows_the_wrapped_phase(plugin, dem, tmp_path):
    out = to_load(str(tmp_path / "phase.tif"))
    results, _, _ = run_and_load(_alg("topographicphase"), {"INPUT": dem, "OUTPUT": out})
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().band() == 2
    assert all(label.endswith(" rad") for label, _c in layer.renderer().legendSymbologyItems())
    _assert_smooth(layer)


def test_layer_names_keep_the_file_name_the_user_gave(plugin, dem, tmp_path):
    named = str(tmp_path / "Etna north flank phase.tif")
    results, registered, _ = run_and_load(
        _alg("topographicphase"), {"INPUT": dem, "OUTPUT": to_load(named)}
    )
    assert registered == {named: "Etna north flank phase"}
    assert loaded_layer(named).name() == "Etna north flank phase"
    # A temporary output (file name OUTPUT.tif) gets the descriptive name instead.
    results, _, _ = run_and_load(_alg("topographicphase"), {"INPUT": dem, "OUTPUT": to_load()})
    assert loaded_layer(results["OUTPUT"]).name() == "Topographic phase, wrapped (rad)"
    other = utm_dem(tmp_path / "other.tif", shape=(24, 24), seed=9)
    params = {"INPUT": dem, "COMPARE_DEM": other, "OUTPUT": to_load()}
    results, _, _ = run_and_load(_alg("topographicphase"), params)
    assert loaded_layer(results["OUTPUT"]).name() == "Residual phase DEM - comparison (rad)"


def test_sar_to_optical_image_is_resampled_smoothly(plugin, tmp_path):
    from test_sar_to_optical import save_tiny_model, write_inputs

    sar, dem = write_inputs(tmp_path / "in")
    model = save_tiny_model(tmp_path / "models", "late")
    out = to_load(str(tmp_path / "rgb.tif"))
    params = {"SAR": sar, "DEM": dem, "MODEL": model, "DEVICE": 1, "OUTPUT": out}
    results, _, _ = run_and_load(_alg("sartooptical"), params)
    _assert_smooth(loaded_layer(results["OUTPUT"]))


def test_distortion_classes_stay_sharp(plugin, dem, tmp_path):
    """Classes are not continuous: no interpolation between class colours."""
    out = to_load(str(tmp_path / "classes.tif"))
    results, _, _ = run_and_load(_alg("sardistortion"), {"DEM": dem, "OUTPUT": out})
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().type() == "paletted"
    assert layer.resampleFilter().zoomedInResampler() is None  # nearest neighbour
