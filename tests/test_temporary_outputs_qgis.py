"""With the dialog's default "[Save to temporary file]" outputs, every algorithm, and a graphical
model chaining two, ends cleanly: QGIS loads exactly the files that were written, and no output
registers a second, never written, temporary path (QGIS would end the run with "The following
layers were not correctly generated")."""

from __future__ import annotations

import os

import numpy as np
import pytest
from dem_rasters import utm_dem
from processing_runs import run_and_load, to_load
from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
    QgsProject,
)
from sar_pairs import write_pair


@pytest.fixture
def project():
    yield QgsProject.instance()
    QgsProject.instance().removeAllMapLayers()


def _check_loaded(results: dict, registered: dict, raster_outputs: tuple[str, ...]) -> None:
    written = {results[name] for name in raster_outputs}
    assert set(registered) == written, (registered, written)  # nothing registered twice
    for path in registered:
        assert os.path.isfile(path) and os.path.getsize(path) > 0, path
    loaded = {layer.source() for layer in QgsProject.instance().mapLayers().values()}
    assert written <= loaded


@pytest.fixture
def dem(tmp_path) -> str:
    return utm_dem(tmp_path / "dem.tif", shape=(24, 24))


def test_offset_tracking_with_temporary_outputs(plugin, project, tmp_path):
    zero = np.zeros((96, 96))
    ref, sec = write_pair(tmp_path, zero, zero)
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:offsettracking")
    params = {
        "REFERENCE": ref,
        "SECONDARY": sec,
        "WINDOW_SIZES": "16,32",
        "STEP": 16,
        "SEARCH": 4,
        "DEVICE": 1,
        "OUTPUT": to_load(),
        "PER_SIZE_OUTPUT": to_load(),
    }
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT", "PER_SIZE_OUTPUT"))


def test_dem_super_resolution_with_temporary_output(plugin, project, dem):
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:demsuperresolution")
    params = {"INPUT": dem, "SCALE": 2, "DEVICE": 1, "OUTPUT": to_load()}
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT",))


def test_evaluate_dem_with_temporary_outputs(plugin, project, dem, tmp_path):
    other = utm_dem(tmp_path / "other.tif", shape=(24, 24), seed=9)
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:evaluatedem")
    params = {
        "INPUT": other,
        "REFERENCE": dem,
        "OUTPUT": to_load(),
        "REPORT": QgsProcessing.TEMPORARY_OUTPUT,
    }
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT",))
    assert os.path.isfile(results["REPORT"])


def test_topographic_phase_with_temporary_output(plugin, project, dem, tmp_path):
    other = utm_dem(tmp_path / "other.tif", shape=(24, 24), seed=9)
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:topographicphase")
    params = {"INPUT": dem, "COMPARE_DEM": other, "OUTPUT": to_load()}
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT",))


def _sr_then_phase_model() -> QgsProcessingModelAlgorithm:
    """A graphical model: super-resolve a DEM x2, then the topographic phase of the result and
    its residue against the input DEM; both results are model outputs."""
    model = QgsProcessingModelAlgorithm("SR then phase", "tests")
    model.addModelParameter(
        QgsProcessingParameterRasterLayer("dem", "DEM"), QgsProcessingModelParameter("dem")
    )
    sr = QgsProcessingModelChildAlgorithm("geohazard:demsuperresolution")
    sr.setChildId("sr")
    sr.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromModelParameter("dem")]
    )
    sr.addParameterSources("SCALE", [QgsProcessingModelChildParameterSource.fromStaticValue(2)])
    sr.addParameterSources("DEVICE", [QgsProcessingModelChildParameterSource.fromStaticValue(1)])
    sr_out = QgsProcessingModelOutput("sr_dem")
    sr_out.setChildId("sr")
    sr_out.setChildOutputName("OUTPUT")
    sr.setModelOutputs({"sr_dem": sr_out})
    model.addChildAlgorithm(sr)
    phase = QgsProcessingModelChildAlgorithm("geohazard:topographicphase")
    phase.setChildId("phase")
    phase.addParameterSources(
        "INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("sr", "OUTPUT")]
    )
    phase.addParameterSources(
        "COMPARE_DEM", [QgsProcessingModelChildParameterSource.fromModelParameter("dem")]
    )
    phase_out = QgsProcessingModelOutput("residue")
    phase_out.setChildId("phase")
    phase_out.setChildOutputName("OUTPUT")
    phase.setModelOutputs({"residue": phase_out})
    model.addChildAlgorithm(phase)
    model.updateDestinationParameters()
    return model


def test_model_chaining_two_algorithms_with_temporary_outputs(plugin, project, dem):
    model = _sr_then_phase_model()
    ok, why = model.canExecute()
    assert ok, why
    params = {"dem": dem, "sr:sr_dem": to_load(), "phase:residue": to_load()}
    results, registered, _ = run_and_load(model, params)
    _check_loaded(results, registered, ("sr:sr_dem", "phase:residue"))


def test_sar_distortion_with_temporary_output(plugin, project, dem):
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:sardistortion")
    results, registered, _ = run_and_load(alg, {"DEM": dem, "OUTPUT": to_load()})
    _check_loaded(results, registered, ("OUTPUT",))


def test_sar_to_optical_with_temporary_output(plugin, project, tmp_path):
    from test_sar_to_optical import save_tiny_model, write_inputs

    sar, dem = write_inputs(tmp_path / "in")
    model = save_tiny_model(tmp_path / "models", "late")
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:sartooptical")
    params = {"SAR": sar, "DEM": dem, "MODEL": model, "DEVICE": 1, "OUTPUT": to_load()}
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT",))


def test_deep_offset_tracking_with_temporary_output(plugin, project, tmp_path):
    from deep_offset_models import save_tiny_model

    zero = np.zeros((128, 128), np.float32)
    ref, sec = write_pair(tmp_path, zero, zero)
    model = save_tiny_model(tmp_path / "models", "tiny_zero", "zero")
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:deepoffsettracking")
    params = {"REFERENCE": ref, "SECONDARY": sec, "MODEL": model, "DEVICE": 1, "OUTPUT": to_load()}
    results, registered, _ = run_and_load(alg, params)
    _check_loaded(results, registered, ("OUTPUT",))
