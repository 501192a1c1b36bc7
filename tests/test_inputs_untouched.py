"""Inputs are read, never written (the README's promise).

- Through processing.run (the Processing dialog and Python scripts take this path) nothing at
  all appears or changes in an input folder: Geohazard loads file inputs as QGIS layers with
  GDAL's auxiliary files off, so no ``.aux.xml`` statistics are written beside them.
- ``qgis_process`` loads every input as a layer itself before any algorithm sees it, and QGIS
  then writes ``<input>.aux.xml`` statistics beside it for every algorithm, QGIS's own
  included: the test shows Geohazard leaves exactly what ``native:rasterlayerproperties``
  leaves, and that no input file changes by a byte.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
from pathlib import Path

import pytest
from dem_rasters import utm_dem
from geohazard.engine.simulate import displacement
from qgis.core import QgsApplication
from run_checks import ALGORITHMS, ROOT, run, snapshot
from sar_pairs import write_pair


def _inputs(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True)
    dy, dx = displacement.uniform_field((256, 256), 0.5, -1.5)
    ref, sec = write_pair(folder, dy, dx)
    return {
        "reference": ref,
        "secondary": sec,
        "dem": utm_dem(folder / "dem.tif", shape=(40, 48)),
        "dem2": utm_dem(folder / "dem2.tif", shape=(40, 48), seed=9),
    }


def _params(alg: str, src: dict[str, str], out: Path) -> dict[str, object]:
    return {
        "geohazard:offsettracking": {
            "REFERENCE": src["reference"],
            "SECONDARY": src["secondary"],
            "SEARCH": 4,
        },
        "geohazard:demsuperresolution": {"INPUT": src["dem"], "SCALE": 2},
        "geohazard:evaluatedem": {
            "INPUT": src["dem2"],
            "REFERENCE": src["dem"],
            "REPORT": str(out / "r.html"),
        },
        "geohazard:topographicphase": {"INPUT": src["dem"], "COMPARE_DEM": src["dem2"]},
    }[alg] | {"OUTPUT": str(out / "o.tif")}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_processing_run_writes_nothing_beside_the_inputs(plugin, tmp_path, alg) -> None:
    src = _inputs(tmp_path / "inputs")
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(tmp_path / "inputs")
    run(alg, _params(alg, src, out))
    gc.collect()  # the run's temporary layers are gone: any sidecar would be written by now
    QgsApplication.processEvents()
    assert snapshot(tmp_path / "inputs") == before


def _qgis_process(*args: str) -> None:
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_qgis_process_changes_no_input_and_leaves_only_what_qgis_itself_leaves(tmp_path) -> None:
    src = _inputs(tmp_path / "geohazard")
    before = snapshot(tmp_path / "geohazard")
    out = tmp_path / "out"
    out.mkdir()
    _qgis_process(
        "geohazard:topographicphase",
        "--",
        f"INPUT={src['dem']}",
        f"COMPARE_DEM={src['dem2']}",
        f"OUTPUT={out / 'p.tif'}",
    )
    after = snapshot(tmp_path / "geohazard")
    assert {k: v for k, v in after.items() if k in before} == before, "an input file changed"
    added = sorted(set(after) - set(before))

    native = tmp_path / "native"
    native.mkdir()
    for name in ("dem.tif", "dem2.tif"):
        shutil.copy(src[name.split(".")[0]], native / name)
        _qgis_process("native:rasterlayerproperties", "--", f"INPUT={native / name}")
    native_added = sorted(set(snapshot(native)) - {"dem.tif", "dem2.tif"})
    assert added == native_added, (added, native_added)
    for name in added:  # QGIS's display statistics, nothing of Geohazard's
        text = (tmp_path / "geohazard" / name).read_text()
        assert "STATISTICS_MINIMUM" in text and "GEOHAZARD" not in text.upper()


def _vrt_of(tif: str, vrt: Path) -> str:
    from osgeo import gdal

    gdal.BuildVRT(str(vrt), [tif]).FlushCache()
    return str(vrt)


def _without_statistics(xml: str) -> str:
    import xml.etree.ElementTree as ET  # nosec B405 (the test's own file)

    root = ET.fromstring(xml)  # nosec B314
    for parent in root.iter():
        for child in list(parent):
            if child.tag == "Metadata":
                parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def test_qgis_process_writes_only_statistics_into_a_vrt(tmp_path) -> None:
    """A VRT input is its own auxiliary file: QGIS writes display statistics into it when
    qgis_process loads it (the README says so), and nothing else: its bands, sources and
    georeferencing stay as they were."""
    src = _inputs(tmp_path / "inputs")
    out = tmp_path / "out"
    out.mkdir()
    vrt = _vrt_of(src["dem"], tmp_path / "inputs" / "dem.vrt")
    before = Path(vrt).read_text()
    _qgis_process("geohazard:topographicphase", "--", f"INPUT={vrt}", f"OUTPUT={out / 'p.tif'}")
    after = Path(vrt).read_text()
    assert "STATISTICS_MINIMUM" in after and "GEOHAZARD" not in after.upper()
    assert _without_statistics(after) == _without_statistics(before)
