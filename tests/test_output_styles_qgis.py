"""How outputs look when QGIS loads them: every
layer output of every algorithm loads with its shipped QML style (styles/), smooth resampling of
continuous rasters, legends with units and a sensible precision, a robust stretch for the
difference map, a single-band style for the per-window-size offsets, transparent still ground
over the hillshade, quality and uncertainty in the displacement layer's style list, the
residual phase when a comparison DEM is given, and layer names that keep the file name the
user chose."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import rasterio
from dem_rasters import utm_dem
from geohazard.engine.io.raster_io import Grid, write_raster
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
# a value and its unit; the lowest value of a displacement ramp may say what it stands for
LABEL = re.compile(r"^-?\d+(\.\d{1,4})? (?P<unit>m|rad|m/yr)( = 2 sigma: [a-z ,()]+)?$")
STYLES = Path(__file__).resolve().parents[1] / "styles"

# Every layer output of every algorithm, and the shipped QML it loads with (tested below).
STYLED_OUTPUTS = {
    ("offsettracking", "OUTPUT"): "displacement_magnitude",
    ("offsettracking", "PER_SIZE_OUTPUT"): "offsets_per_window",
    ("offsettracking", "VELOCITY_OUTPUT"): "displacement_magnitude",
    ("deepoffsettracking", "OUTPUT"): "displacement_magnitude",
    ("deepoffsettracking", "VELOCITY_OUTPUT"): "displacement_magnitude",
    ("demsuperresolution", "OUTPUT"): "dem_hillshade",
    ("evaluatedem", "OUTPUT"): "dem_difference",
    ("topographicphase", "OUTPUT"): "phase_wrapped",  # phase_residual with COMPARE_DEM
    ("sardistortion", "OUTPUT"): "sar_distortion_classes",
    ("sartooptical", "OUTPUT"): "optical_rgb",
    ("landslideareas", "OUTPUT"): "landslide_areas",
    ("displacementarrows", "OUTPUT"): "displacement_arrows",
    # one layer per date (tests/test_time_series_layers_qgis.py)
    ("displacementtimeseries", "OUTPUT"): "displacement_magnitude",
    ("displacementtimeseries", "VELOCITY_OUTPUT"): "displacement_magnitude",
}


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
    settings = shader.legendSettings()
    assert settings.suffix() == f" {unit}"
    # The continuous legend (map legends, layout legends) rounds as the labels do: no
    # 60.713768 but 60.7 (three significant digits of the range at most).
    decimals = settings.numericFormat().numberDecimalPlaces()
    assert 0 <= decimals <= 4
    hi = renderer.classificationMax()
    assert len(f"{hi:.{decimals}f}".replace("-", "").replace(".", "").lstrip("0")) <= 4


def _assert_qml(layer, qml: str) -> None:  # type: ignore[no-untyped-def]
    """The layer's renderer is the one the shipped styles/<qml>.qml describes."""
    root = ET.parse(STYLES / f"{qml}.qml").getroot()
    raster = root.find(".//rasterrenderer")
    if raster is not None:
        assert layer.renderer().type() == raster.get("type"), (layer.name(), qml)
        band = raster.get("band") or raster.get("redBand")
        if band is not None:
            actual = getattr(layer.renderer(), "band", None) or layer.renderer().redBand
            assert actual() == int(band), (layer.name(), qml)
        return
    vector = root.find(".//renderer-v2")
    assert vector is not None, qml
    assert layer.renderer().type() == vector.get("type"), (layer.name(), qml)
    expected = [e.get("class") for e in vector.find("symbols/symbol").findall("layer")]
    got = [s.layerType() for s in layer.renderer().symbol().symbolLayers()]
    assert got == expected, (layer.name(), qml)


# Outputs are named files here (the temporary-output case is tests/test_temporary_outputs_qgis.py).


def test_super_resolved_dem_hillshade_is_resampled_smoothly(plugin, dem, tmp_path):
    out = to_load(str(tmp_path / "sr.tif"))
    results, _, _ = run_and_load(
        _alg("demsuperresolution"), {"INPUT": dem, "SCALE": 2, "DEVICE": 1, "OUTPUT": out}
    )
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().type() == "hillshade"
    _assert_qml(layer, "dem_hillshade")
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
    _assert_qml(offsets, "displacement_magnitude")
    _assert_legend(offsets, "m")
    _assert_smooth(offsets)
    per_size = loaded_layer(results["PER_SIZE_OUTPUT"])
    assert per_size.bandCount() == 6
    # Not a meaningless RGB of east/north/quality: one band, the smallest window's east offset.
    assert per_size.renderer().type() == "singlebandpseudocolor"
    assert per_size.renderer().band() == 1
    _assert_qml(per_size, "offsets_per_window")
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
    _assert_qml(layer, "dem_difference")
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
    _assert_qml(layer, "phase_residual")
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
    _assert_qml(layer, "phase_wrapped")
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
    layer = loaded_layer(results["OUTPUT"])
    _assert_qml(layer, "optical_rgb")
    _assert_smooth(layer)


def test_distortion_classes_stay_sharp(plugin, dem, tmp_path):
    """Classes are not continuous: no interpolation between class colours."""
    out = to_load(str(tmp_path / "classes.tif"))
    results, _, _ = run_and_load(_alg("sardistortion"), {"DEM": dem, "OUTPUT": out})
    layer = loaded_layer(results["OUTPUT"])
    assert layer.renderer().type() == "paletted"
    _assert_qml(layer, "sar_distortion_classes")
    labels = [label for label, _c in layer.renderer().legendSymbologyItems()]
    assert labels == ["undistorted", "foreshortening", "layover", "shadow"]
    assert layer.resampleFilter().zoomedInResampler() is None  # nearest neighbour


def test_every_layer_output_of_every_algorithm_has_a_style(plugin):
    """A new raster or vector output must come with a shipped style (and a test here)."""
    provider = QgsApplication.processingRegistry().providerById("geohazard")
    layer_outputs = set()
    for alg in provider.algorithms():
        for param in alg.destinationParameterDefinitions():
            if param.type() in ("rasterDestination", "vectorDestination", "sink"):
                layer_outputs.add((alg.name(), param.name()))
    assert layer_outputs == set(STYLED_OUTPUTS)
    for qml in set(STYLED_OUTPUTS.values()) | {"phase_residual"}:
        assert (STYLES / f"{qml}.qml").is_file(), qml


def test_displacement_and_velocity_load_with_magnitude_quality_and_uncertainty(plugin, tmp_path):
    """Magnitude shown (transparent at zero over the hillshade); quality as grey from 0 to 1
    and the east 1-sigma as grey in the units, one click away in the layer's style list."""
    rr, cc = np.mgrid[0:128, 0:128]
    lobe = ((rr - 64) ** 2 + (cc - 64) ** 2 <= 30**2).astype(np.float32)
    ref, sec = write_pair(tmp_path, np.zeros((128, 128)), 2.0 * lobe)
    params = {
        "REFERENCE": ref,
        "SECONDARY": sec,
        "WINDOW_SIZES": "32",
        "STEP": 8,
        "SEARCH": 4,
        "DEVICE": 1,
        "REFERENCE_DATE": "2024-01-01",
        "SECONDARY_DATE": "2024-07-01",
        "OUTPUT": to_load(str(tmp_path / "offsets.tif")),
        "VELOCITY_OUTPUT": to_load(str(tmp_path / "velocity.tif")),
    }
    results, _, _ = run_and_load(_alg("offsettracking"), params)
    for key, unit in (("OUTPUT", "m"), ("VELOCITY_OUTPUT", "m/yr")):
        layer = loaded_layer(results[key])
        _assert_qml(layer, "displacement_magnitude")
        _assert_legend(layer, unit)
        renderer = layer.renderer()
        # the ramp starts at 2 sigma of the typical uncertainty (tests/test_significance_style.py)
        assert renderer.classificationMin() > 0.0
        shader = renderer.shader().rasterShaderFunction()
        # still ground is transparent, the moving lobe opaque
        assert shader.shade(0.0)[0] and shader.shade(0.0)[4] == 0
        ok, *_rgb, alpha = shader.shade(renderer.classificationMax())
        assert ok and alpha == 255
        manager = layer.styleManager()
        assert manager.currentStyle() == "magnitude"
        assert set(manager.styles()) == {
            "magnitude",
            "quality (peak NCC)",
            "east uncertainty (1-sigma)",
        }
        manager.setCurrentStyle("quality (peak NCC)")
        assert layer.renderer().band() == 4
        assert (layer.renderer().classificationMin(), layer.renderer().classificationMax()) == (
            0.0,
            1.0,
        )
        manager.setCurrentStyle("east uncertainty (1-sigma)")
        assert layer.renderer().band() == 5
        _assert_legend(layer, unit)
        manager.setCurrentStyle("magnitude")
        assert layer.renderer().band() == 3


def test_deep_offsets_load_with_the_displacement_style(plugin, tmp_path):
    from deep_offset_models import save_tiny_model

    ref, sec = write_pair(tmp_path, np.zeros((64, 64)), np.ones((64, 64)))
    model = save_tiny_model(tmp_path / "models", "tiny_zero", "zero")
    params = {
        "REFERENCE": ref,
        "SECONDARY": sec,
        "MODEL": model,
        "DEVICE": 1,
        "OUTPUT": to_load(str(tmp_path / "deep.tif")),
    }
    results, _, _ = run_and_load(_alg("deepoffsettracking"), params)
    layer = loaded_layer(results["OUTPUT"])
    _assert_qml(layer, "displacement_magnitude")
    _assert_legend(layer, "m")
    assert len(layer.styleManager().styles()) == 3


def test_landslide_polygons_and_arrows_load_with_their_styles(plugin, tmp_path):
    from displacement_rasters import tilted_dem, two_lobes

    disp = two_lobes(tmp_path / "d.tif")
    dem = tilted_dem(tmp_path / "dem.tif")
    results, _, _ = run_and_load(
        _alg("landslideareas"),
        {"INPUT": disp, "DEM": dem, "OUTPUT": to_load(str(tmp_path / "areas.gpkg"))},
    )
    areas = loaded_layer(results["OUTPUT"])
    _assert_qml(areas, "landslide_areas")
    results, _, _ = run_and_load(
        _alg("displacementarrows"),
        {"INPUT": disp, "SPACING": 100, "OUTPUT": to_load(str(tmp_path / "arrows.gpkg"))},
    )
    arrows = loaded_layer(results["OUTPUT"])
    _assert_qml(arrows, "displacement_arrows")
