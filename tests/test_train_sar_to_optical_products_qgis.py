"""geohazard:trainsartooptical through the real qgis_process on inputs in the layouts users
download (tests/sar_optical_products.py): SNAP GeoTIFF (VH first) and BEAM-DIMAP ENVI images,
a HyP3 RTC pair in dB, Sentinel-2 L2A band files (JP2 and GeoTIFF) and a stack, the SCL at
20 m in another UTM zone than the SAR. Each run measures the base model and the linear colour
mapping on its validation patches exactly as the run on the plain twins does (same patches,
same numbers), changes no input, and each mismatch stops with its sentence."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import rasterio
import sar_optical_products as products

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:trainsartooptical"
PREFIX = "pytest_s2o_products_"
MODELS = ROOT / ".venv" / "qgis-profile" / "profiles" / "default" / "geohazard" / "models"
# Tiny: 32 px patches of the 96 px area, batch 2, one epoch; the same seed for every run.
TINY = ("EPOCHS=1", "BATCH_SIZE=2", "PATCH_SIZE=32", "DEVICE=1", "SEED=3", "OVERWRITE=true")
# The base model and the linear colour mapping on the validation patches: equal for the same
# patches (targets of an optical in another file layout may differ by two levels of 255 at a
# few pixels, GDAL's resampling, see test_sar_optical_inputs.OPTICAL_LEVELS). VV and VH
# swapped move the base model's MSE by about 0.5% (the control run below).
REL = 1e-4


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("products")
    t = products.make_truth()
    plain = products.write_plain(root / "plain", t)
    dim = products.write_beam_dimap(root / "dimap", t)
    jp2 = products.write_l2a_safe(root / "jp2", t)
    tif = products.write_l2a_safe(root / "tif", t, driver="GTiff")
    l1c = products.write_l2a_safe(root / "l1c", t, driver="GTiff", level="L1C")
    hyp3 = products.write_rtc(root / "hyp3", t, "d")
    return {
        "root": str(root),
        "DEM": products.write_dem(root, t),
        "SAR": plain["SAR"],
        "OPTICAL": plain["OPTICAL"],
        "MASK": plain["MASK"],
        "snap": products.write_snap_geotiff(root / "snap", t),
        "envi_vv": dim[: -len(".dim")] + ".data/Sigma0_VV.img",
        "hyp3_vv": hyp3["VV"],
        "hyp3_lone": products.copy_without([hyp3["VV"]], root / "lone", "_VH")[0],
        "jp2_b04": jp2["B04"],
        "jp2_scl": jp2["SCL"],
        "tif_b03": tif["B03"],
        "tif_scl": tif["SCL"],
        "l1c_b04": l1c["B04"],
        "stack": products.write_l2a_stack(root / "stack", t),
    }


@pytest.fixture(scope="module")
def no_models_left():  # type: ignore[no-untyped-def]
    yield
    if MODELS.is_dir():
        for f in MODELS.iterdir():
            if f.name.startswith(PREFIX):
                f.unlink()


def _snapshot(folder: str) -> dict[str, tuple[int, float]]:
    paths = [os.path.join(d, f) for d, _, names in os.walk(folder) for f in names]
    return {p: (os.path.getsize(p), os.path.getmtime(p)) for p in paths}


def qgis_process(name: str, tmp: Path, **params: str) -> tuple[int, str, dict[str, str]]:
    """Runs the algorithm; returns the exit status, the whole output and the results."""
    args = [f"{k}={v}" for k, v in params.items()]
    args += [f"OUTPUT_MODEL={PREFIX}{name}", f"LOG={tmp / name}.csv", f"CURVES={tmp / name}.png"]
    proc = subprocess.run(
        [str(ROOT / "scripts" / "qgis_process"), "run", ALG, "--", *args, *TINY],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    results = {}
    if "\nResults\n" in out:
        for line in out.split("\nResults\n", 1)[1].splitlines():
            key, sep, value = line.partition(":\t")
            if sep:
                results[key] = value
    return proc.returncode, out, results


def test_each_layout_gives_the_plain_twins_patches(files, tmp_path, no_models_left) -> None:
    before = _snapshot(files["root"])
    rc, out, plain = qgis_process(
        "plain",
        tmp_path,
        SAR=files["SAR"],
        DEM=files["DEM"],
        OPTICAL=files["OPTICAL"],
        MASK=files["MASK"],
    )
    assert rc == 0, out
    runs = {
        # SNAP GeoTIFF (Sigma0_VH before Sigma0_VV), an L2A stack (B2, B3, B4, B8), the SCL
        "snap_stack": dict(SAR=files["snap"], OPTICAL=files["stack"], SCL=files["jp2_scl"]),
        # HyP3 RTC pair in dB (VV given, VH found), L2A JP2 band files and their SCL
        "hyp3_jp2": dict(SAR=files["hyp3_vv"], OPTICAL=files["jp2_b04"], SCL=files["jp2_scl"]),
        # BEAM-DIMAP ENVI image (VH found), L2A GeoTIFF band files (B03 given), SCL as MASK
        "dimap_tif": dict(SAR=files["envi_vv"], OPTICAL=files["tif_b03"], MASK=files["tif_scl"]),
    }
    said = {
        "snap_stack": "VV from '" + products.SNAP_NAME + ".tif' band 2 (Sigma0_VV), VH from "
        "band 1 (Sigma0_VH); linear.",
        "hyp3_jp2": "_gduned_1A2B_VH.tif'; db.",
        "dimap_tif": "SAR: VV from 'Sigma0_VV.img', VH from 'Sigma0_VH.img'; linear.",
    }
    for name, params in runs.items():
        rc, out, res = qgis_process(name, tmp_path, DEM=files["DEM"], **params)
        assert rc == 0, out
        assert said[name] in out
        assert "SCL 'T33TUM_20230801T101031_SCL_20m" in out
        for key in ("BASE_MSE", "LINEAR_MSE", "BASE_SSIM"):
            assert float(res[key]) == pytest.approx(float(plain[key]), rel=REL), (name, key)
    # control: the SNAP file without its band names is read as band 1 VV, band 2 VH (swapped)
    unnamed = str(tmp_path / "unnamed.tif")
    shutil.copy(files["snap"], unnamed)
    with rasterio.open(unnamed, "r+") as ds:
        for i in (1, 2, 3):
            ds.set_band_description(i, "")
    rc, out, res = qgis_process(
        "swapped",
        tmp_path,
        SAR=unnamed,
        DEM=files["DEM"],
        OPTICAL=files["OPTICAL"],
        MASK=files["MASK"],
    )
    assert rc == 0, out
    assert float(res["BASE_MSE"]) != pytest.approx(float(plain["BASE_MSE"]), rel=10 * REL)
    # No input changes by a byte. qgis_process itself loads each file given as a parameter as
    # a layer and QGIS writes its .aux.xml statistics beside it (for every algorithm, see
    # test_inputs_untouched); nothing appears beside the files found by name (VH, B04, B02).
    after = _snapshot(files["root"])
    assert {p: after[p] for p in before} == before
    given = {v for params in [files, *runs.values()] for v in params.values()}
    assert {p[: -len(".aux.xml")] for p in set(after) - set(before)} <= given


def test_mismatches_through_qgis_process(files, tmp_path, no_models_left) -> None:
    rc, out, _ = qgis_process(
        "l1c",
        tmp_path,
        SAR=files["SAR"],
        DEM=files["DEM"],
        OPTICAL=files["l1c_b04"],
        SCL=files["tif_scl"],
    )
    assert rc != 0
    assert "comes with Sentinel-2 L2A products, but the optical image" in out
    rc, out, _ = qgis_process(
        "lone", tmp_path, SAR=files["hyp3_lone"], DEM=files["DEM"], OPTICAL=files["OPTICAL"]
    )
    assert rc != 0
    assert "_VV.tif' is one band (VV) and its VH twin" in out and "(SAR_VH)" in out
    rc, out, _ = qgis_process(
        "units",
        tmp_path,
        SAR=files["SAR"],
        DEM=files["DEM"],
        OPTICAL=files["OPTICAL"],
        SAR_UNITS="2",
    )
    assert rc != 0
    assert "'sar.tif' is set as dB, but its values are positive" in out
    assert not list(MODELS.glob(f"{PREFIX}l1c*")) and not list(MODELS.glob(f"{PREFIX}lone*"))


def test_new_parameters_are_optional_and_the_help_lists_the_layouts(plugin) -> None:
    """SAR_VH and SCL optional, SAR_UNITS advanced with the default auto (the plain run above
    gives none of them)."""
    from geohazard.processing_provider.qgis_compat import ADVANCED, OPTIONAL
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    for name in ("SAR_VH", "SCL"):
        assert alg.parameterDefinition(name).flags() & OPTIONAL
    units = alg.parameterDefinition("SAR_UNITS")
    assert units.flags() & ADVANCED and units.defaultValue() == 0
    assert units.options() == ["auto", "linear power", "dB", "amplitude"]
    text = alg.shortHelpString()
    for phrase in (
        "Sigma0_VV.img",
        "HyP3",
        "OPERA",
        "B04",
        "_10m.jp2",
        "BOA_ADD_OFFSET",
        "3 cloud shadow",
        "11 snow or ice",
        "Level-1C",
    ):
        assert phrase in text, phrase
