"""Bad parameter values are refused before any compute, each with one sentence naming the
parameter, its range and unit (never QGIS's bare "Incorrect parameter value for X"), and every
number has its range in its definition and in the help."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from dem_rasters import utm_dem
from provider_algorithms import algorithm_ids
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def dem(tmp_path) -> str:
    return utm_dem(tmp_path / "dem.tif", shape=(24, 24))


@pytest.fixture
def pair(tmp_path) -> tuple[str, str]:
    zero = np.zeros((64, 64))
    return write_pair(tmp_path, zero, zero)


def _refused(alg: str, params: dict) -> str:
    import processing

    with pytest.raises(QgsProcessingException) as info:
        processing.run(f"geohazard:{alg}", params, feedback=QgsProcessingFeedback())
    message = str(info.value)
    assert "Incorrect parameter value" not in message, message
    return message


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("BASELINE", "nan", "BASELINE must be a finite number (-10 000 to 10 000 m), not nan"),
        ("BASELINE", float("nan"), "BASELINE must be a finite number"),
        ("BASELINE", float("inf"), "BASELINE must be a finite number"),
        ("BASELINE", "-inf", "BASELINE must be a finite number"),
        ("BASELINE", 20000, "BASELINE must be between -10 000 and 10 000 m, not 20 000 m"),
        ("WAVELENGTH", 0, "WAVELENGTH must be between 0.001 and 2 m, not 0 m"),
        ("WAVELENGTH", "abc", "WAVELENGTH must be a number (0.001 to 2 m), not 'abc'"),
        ("SLANT_RANGE", -5, "SLANT_RANGE must be between 100 and 3 000 000 m"),
        ("INCIDENCE", 95, "INCIDENCE must be between 0.1 and 89.9 degrees, not 95 degrees"),
        ("INCIDENCE", float("nan"), "INCIDENCE must be a finite number"),
    ],
)
def test_topographic_phase_refuses_bad_numbers(plugin, dem, tmp_path, name, value, expected):
    out = tmp_path / "phase.tif"
    message = _refused("topographicphase", {"INPUT": dem, name: value, "OUTPUT": str(out)})
    assert expected in message
    assert not out.exists()


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("BAND", 0, "BAND must be a band number, 1 for the first band"),
        ("BAND", -1, "BAND must be a band number"),
        ("BAND", 2, "BAND 2 does not exist: 'reference' has 1 band."),
        ("STEP", 0, "STEP must be between 1 and 4096 px, not 0 px"),
        ("STEP", 2.5, "STEP must be a whole number (1 to 4096 px)"),
        ("SEARCH", 100000, "SEARCH must be between 1 and 512 px"),
        ("SEARCH", "nan", "SEARCH must be a finite number"),
        ("MIN_QUALITY", 2, "MIN_QUALITY must be between -1 and 1, not 2"),
        ("DEVICE", 7, "DEVICE must be the number of one of its options (0 = auto, 1 = cpu"),
        ("OUTLIER_FILTER", 9, "OUTLIER_FILTER must be the number of one of its options"),
    ],
)
def test_offset_tracking_refuses_bad_values(plugin, pair, tmp_path, name, value, expected):
    out = tmp_path / "offsets.tif"
    ref, sec = pair
    params = {"REFERENCE": ref, "SECONDARY": sec, name: value, "OUTPUT": str(out)}
    assert expected in _refused("offsettracking", params)
    assert not out.exists()


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("TILE_SIZE", 4, "TILE_SIZE must be between 16 and 8192 px, not 4 px"),
        ("OVERLAP", -1, "OVERLAP must be between 0 and 4096 px, not -1 px"),
        ("BATCH", 1000, "BATCH must be between 0 and 256 tiles"),
        ("SCALE", 3, "SCALE must be 2 or 4, not 3"),
        ("SCALE", float("inf"), "SCALE must be a finite number"),
    ],
)
def test_dem_super_resolution_refuses_bad_values(plugin, dem, tmp_path, name, value, expected):
    out = tmp_path / "sr.tif"
    assert expected in _refused(
        "demsuperresolution", {"INPUT": dem, name: value, "OUTPUT": str(out)}
    )
    assert not out.exists()


def test_missing_and_absent_rasters_are_named(plugin, dem, tmp_path):
    missing = str(tmp_path / "nowhere.tif")
    message = _refused("evaluatedem", {"INPUT": dem, "REFERENCE": missing, "OUTPUT": "x.tif"})
    assert f"REFERENCE: '{missing}' was not found" in message
    message = _refused("evaluatedem", {"INPUT": dem, "OUTPUT": str(tmp_path / "d.tif")})
    assert "REFERENCE is required" in message


def test_qgis_process_refuses_nan_baseline(plugin, dem, tmp_path):
    """The case of the sweep: BASELINE=nan ran and wrote an all-NaN raster with exit 0."""
    out = tmp_path / "phase.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            "geohazard:topographicphase",
            "--",
            f"INPUT={dem}",
            "BASELINE=nan",
            f"OUTPUT={out}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "BASELINE must be a finite number" in proc.stdout + proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("alg_id", algorithm_ids())
def test_every_number_has_a_range_in_its_definition_and_help(plugin, alg_id):
    from geohazard.processing_provider.parameter_checks import format_number

    alg = QgsApplication.processingRegistry().algorithmById(f"geohazard:{alg_id}")
    help_text = alg.shortHelpString()
    for d in alg.parameterDefinitions():
        if d.type() not in ("number", "distance"):
            continue
        lo, hi = d.minimum(), d.maximum()
        assert math.isfinite(lo) and lo > -1e300 and hi < 1e300, f"{d.name()} has no range"
        expected = f"<code>{d.name()}</code> ({d.description()}): {format_number(lo)} to "
        expected += format_number(hi)
        assert expected in help_text, d.name()
