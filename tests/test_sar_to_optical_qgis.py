"""geohazard:sartooptical in a real QGIS: contract parameters, processing.run with an RGB style,
the real qgis_process, and bad input (clear error, inputs untouched, nothing left)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import (
    QgsMultiBandColorRenderer,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
)
from test_sar_to_optical import save_tiny_model, write_inputs

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:sartooptical"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[str, str]:
    return write_inputs(tmp_path / "in")


def _run(params: dict) -> dict:
    import processing

    return processing.run(ALG, params, feedback=QgsProcessingFeedback())


def test_registered_with_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None
    params = {p.name(): p for p in alg.parameterDefinitions()}
    for name in ("SAR", "DEM", "FUSION", "MODEL", "ENHANCE", "DEVICE", "OUTPUT"):
        assert name in params
    assert params["FUSION"].options() == ["sar-only", "early", "late", "intermediate"]
    assert params["ENHANCE"].options() == ["none", "laplacian", "wiener"]
    assert params["DEM"].flags() & params["DEM"].FlagOptional
    help_text = alg.shortHelpString()
    for word in ("VV", "VH", "metres", "Bralet", "SIMULATED", "9 x 9"):
        assert word in help_text


def test_runs_and_loads_as_rgb(plugin, tmp_path, inputs) -> None:
    import processing

    sar, dem = inputs
    model = save_tiny_model(tmp_path / "models", "late")
    out = str(tmp_path / "rgb.tif")
    QgsProject.instance().removeAllMapLayers()
    res = processing.runAndLoadResults(
        ALG, {"SAR": sar, "DEM": dem, "MODEL": model, "ENHANCE": 1, "OUTPUT": out}
    )
    assert res["OUTPUT"] == out
    with rasterio.open(out) as f, rasterio.open(sar) as s:
        assert f.count == 3 and f.transform == s.transform and f.crs == s.crs
        assert f.tags()["GEOHAZARD_ENHANCE"] == "laplacian"
        assert np.nanmax(f.read()) <= 255.0
    layer = next(iter(QgsProject.instance().mapLayers().values()))
    assert isinstance(layer.renderer(), QgsMultiBandColorRenderer)
    QgsProject.instance().removeAllMapLayers()


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def test_bad_input_gives_one_clear_sentence(plugin, tmp_path, inputs) -> None:
    sar, dem = inputs
    model = save_tiny_model(tmp_path / "models", "late")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = _digest(sar, dem)
    cases = [
        ({"SAR": dem, "DEM": dem, "MODEL": model}, "VV then VH"),
        ({"SAR": sar, "DEM": dem, "MODEL": model, "FUSION": 1}, "is a late SARDINet"),
        ({"SAR": sar, "MODEL": model}, "needs a DEM"),
        ({"SAR": sar, "DEM": dem, "MODEL": str(tmp_path / "nope.safetensors")}, "does not exist"),
    ]
    for params, match in cases:
        with pytest.raises(QgsProcessingException, match=match):
            _run({**params, "OUTPUT": str(out_dir / "o.tif")})
        assert list(out_dir.iterdir()) == []
    assert _digest(sar, dem) == before


def test_the_real_qgis_process_runs_it(tmp_path, inputs) -> None:
    sar, dem = inputs
    model = save_tiny_model(tmp_path / "models", "intermediate")
    out = tmp_path / "rgb.tif"
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", f"SAR={sar}", f"DEM={dem}",
         "FUSION=3", f"MODEL={model}", "ENHANCE=2", f"OUTPUT={out}"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as f:
        assert f.count == 3 and f.tags()["GEOHAZARD_FUSION"] == "intermediate"
