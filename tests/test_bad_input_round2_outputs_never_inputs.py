"""No file output of any algorithm may be one of the run's inputs: every algorithm of the provider
(discovered from it, shipped models included) and every one of its file outputs (rasters, vector
layers, reports, training logs and curves) set to an input's path is refused before anything runs,
through processing.run in the real QGIS, and the input is left byte for byte as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dem_rasters import utm_dem
from provider_algorithms import provider_outputs
from qgis.core import QgsProcessingException
from run_checks import RecordingFeedback, run, snapshot

CASES = [
    pytest.param(alg_id, output, inputs, id=f"{alg_id.split(':')[1]}-{output.split(':')[0]}")
    for alg_id, outputs, inputs in provider_outputs()
    for output in outputs
]


def _inputs(folder: Path, inputs: list[tuple[str, str]]) -> dict[str, object]:
    """A small GeoTIFF of its own for every layer input of the algorithm."""
    dem = utm_dem(folder / "source.tif", shape=(40, 48))
    params: dict[str, object] = {}
    for name, kind in inputs:
        if kind in ("raster", "multilayer"):
            path = folder / f"{name.replace(':', '_')}.tif"
            shutil.copy(dem, path)
            params[name] = [str(path)] if kind == "multilayer" else str(path)
    (folder / "source.tif").unlink()
    return params


def test_every_algorithm_has_an_output_to_check() -> None:
    assert len(CASES) >= 13, CASES


@pytest.mark.parametrize(("alg_id", "output", "inputs"), CASES)
def test_output_equal_to_an_input_is_refused_before_anything_runs(
    plugin, tmp_path, alg_id, output, inputs
) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    params = _inputs(folder, inputs)
    assert params, f"{alg_id} has no layer input"
    name, value = next(iter(params.items()))
    target = value[0] if isinstance(value, list) else value
    before = snapshot(folder)
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as err:
        run(alg_id, {**params, output: target}, feedback)
    assert f"{output} would overwrite the input {name} ('{Path(target).name}')" in str(err.value)
    assert feedback.max_progress == 0, "it computed before refusing"
    assert snapshot(folder) == before, "an input changed"
