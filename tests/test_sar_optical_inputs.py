"""SAR-to-optical training inputs as users download them (engine and
scripts/prepare_sar_optical.py): SNAP GeoTIFF and BEAM-DIMAP, HyP3 and OPERA RTC (dB, linear,
amplitude; two files), Sentinel-2 L2A band files (JP2, GeoTIFF) and stacks with the SCL in
another UTM zone than the SAR. Each gives the prepared data of its plain twin (tests/
sar_optical_products.py), and each mismatch gives its sentence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import sar_optical_products as products
from affine import Affine
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.families.sar_to_optical.data import Area, load_area, load_split
from geohazard.engine.families.sar_to_optical.inputs import find_optical, read_optical
from geohazard.engine.io.raster_io import Grid
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "scripts" / "prepare_sar_optical.py")
SAR_GRID = Grid(products.SAR_CRS, products.SAR_TRANSFORM, *products.SHAPE[::-1])


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> dict:  # type: ignore[type-arg]
    """The truth, its DEM and plain files, and the plain area loaded (SCL as a 0/1 mask)."""
    root = tmp_path_factory.mktemp("scene")
    truth = products.make_truth()
    dem = products.write_dem(root, truth)
    plain = products.write_plain(root / "plain", truth)
    area = load_area(plain["SAR"], dem, plain["OPTICAL"], plain["MASK"])
    return {"root": root, "truth": truth, "dem": dem, "plain": plain, "area": area}


# GDAL's warper sizes its bilinear kernel from a scale it estimates per chunk, and the chunks
# follow the source file's blocks: the same reflectance in another layout (JPEG 2000 tiles,
# one-band strips, a float stack) resamples up to about 1e-3 of reflectance apart, within two
# levels of 255 after the stretch. A missing offset (0.1) or swapped bands are far beyond.
OPTICAL_LEVELS = 2
OPTICAL_REFLECTANCE = 1.5e-3


def assert_same_area(area: Area, expected: Area, target_levels: int = 0) -> None:
    """Same valid pixels and network inputs; targets equal, or within ``target_levels`` of
    255 where the optical comes in another layout (see OPTICAL_LEVELS)."""
    a, e = area.grid, expected.grid
    assert (a.width, a.height) == (e.width, e.height) and a.transform.almost_equals(e.transform)
    assert a.crs is not None and e.crs is not None
    assert a.crs.to_epsg(confidence_threshold=20) == e.crs.to_epsg(confidence_threshold=20)
    assert np.array_equal(area.valid, expected.valid)
    assert np.allclose(area.inputs, expected.inputs, atol=1e-6, rtol=0)
    assert area.target is not None and expected.target is not None
    diff = np.abs(np.round(area.target * 255) - np.round(expected.target * 255))
    assert diff.max() <= target_levels


def test_snap_geotiff_with_vh_first_is_read_by_its_band_names(scene, tmp_path) -> None:
    t, plain = scene["truth"], scene["plain"]
    snap = products.write_snap_geotiff(tmp_path, t)
    area = load_area(snap, scene["dem"], plain["OPTICAL"], plain["MASK"])
    assert_same_area(area, scene["area"])
    # the same file without band names is read as band 1 VV, band 2 VH: swapped
    unnamed = str(tmp_path / "unnamed.tif")
    shutil.copy(snap, unnamed)
    with rasterio.open(unnamed, "r+") as ds:
        for i in (1, 2, 3):
            ds.set_band_description(i, "")
    swapped = load_area(unnamed, scene["dem"], plain["OPTICAL"], plain["MASK"])
    assert np.allclose(swapped.inputs[0], scene["area"].inputs[1])
    assert not np.allclose(swapped.inputs[0], scene["area"].inputs[0], atol=0.05)


def test_beam_dimap_header_folder_and_envi_image(scene, tmp_path) -> None:
    t, plain = scene["truth"], scene["plain"]
    dim = products.write_beam_dimap(tmp_path, t)
    data = dim[: -len(".dim")] + ".data"
    for given in (dim, data, f"{data}/Sigma0_VV.img", f"{data}/Sigma0_VH.img"):
        area = load_area(given, scene["dem"], plain["OPTICAL"], plain["MASK"])
        assert_same_area(area, scene["area"])


def test_beam_dimap_in_geographic_coordinates_as_snap_writes_by_default(scene, tmp_path) -> None:
    t, plain = scene["truth"], scene["plain"]
    wgs84 = CRS.from_epsg(4326)
    tf = Affine(0.00013, 0, 11.951, 0, -0.00009, 46.4995)  # about 10 m
    dim = products.write_beam_dimap(tmp_path / "dimap", t, wgs84, tf)
    area = load_area(dim, scene["dem"], plain["OPTICAL"], plain["MASK"])
    assert area.grid.crs.is_geographic and area.valid.mean() > 0.5
    twin = tmp_path / "sar_wgs84.tif"  # with the CRS as GDAL reads it from the ENVI header
    with rasterio.open(
        twin,
        "w",
        driver="GTiff",
        width=96,
        height=96,
        count=2,
        dtype="float32",
        crs=area.grid.crs,
        transform=tf,
        nodata=float("nan"),
    ) as ds:
        ds.write(np.stack([t.vv, t.vh]))
    assert_same_area(area, load_area(str(twin), scene["dem"], plain["OPTICAL"], plain["MASK"]))


@pytest.mark.parametrize(
    "scale, opera, given",
    [("p", False, "VV"), ("d", False, "VV"), ("a", False, "VH"), ("p", True, "VH")],
)
def test_rtc_two_files_in_power_db_or_amplitude_give_the_same_inputs(
    scene, tmp_path, scale, opera, given
) -> None:
    plain = scene["plain"]
    files = products.write_rtc(tmp_path, scene["truth"], scale, opera)
    area = load_area(files[given], scene["dem"], plain["OPTICAL"], plain["MASK"])
    assert_same_area(area, scene["area"])


def test_a_pair_named_without_polarisation_with_the_vh_file_given(scene, tmp_path) -> None:
    plain = scene["plain"]
    files = products.write_rtc(tmp_path, scene["truth"], "p")
    co, cross = str(tmp_path / "co.tif"), str(tmp_path / "cross.tif")
    shutil.copy(files["VV"], co)
    shutil.copy(files["VH"], cross)
    area = load_area(co, scene["dem"], plain["OPTICAL"], plain["MASK"], sar_vh_path=cross)
    assert_same_area(area, scene["area"])


def test_l2a_band_files_and_scl_in_another_utm_zone(scene, tmp_path) -> None:
    t, plain, dem = scene["truth"], scene["plain"], scene["dem"]
    tif = products.write_l2a_safe(tmp_path / "tif", t, driver="GTiff")
    jp2 = products.write_l2a_safe(tmp_path / "jp2", t)
    # digital numbers become reflectance with BOA_ADD_OFFSET -1000 of MTD_MSIL2A.xml
    expected = read_optical(find_optical(plain["OPTICAL"]), SAR_GRID)
    for source in (tif, jp2):
        reflectance = read_optical(find_optical(source["B02"]), SAR_GRID)
        assert np.allclose(reflectance, expected, atol=OPTICAL_REFLECTANCE, equal_nan=True)
    for band in ("B04", "B03", "B02"):  # any of the three band files finds the other two
        assert_same_area(
            load_area(plain["SAR"], dem, tif[band], scl_path=tif["SCL"]),
            scene["area"],
            OPTICAL_LEVELS,
        )
    assert_same_area(
        load_area(plain["SAR"], dem, tif["SAFE"], tif["SCL"]), scene["area"], OPTICAL_LEVELS
    )
    assert_same_area(
        load_area(plain["SAR"], dem, jp2["B04"], scl_path=jp2["SCL"]), scene["area"], OPTICAL_LEVELS
    )


def test_l2a_stack_with_named_bands_in_any_order(scene, tmp_path) -> None:
    plain, dem = scene["plain"], scene["dem"]
    stack = products.write_l2a_stack(tmp_path, scene["truth"])
    scl = products.write_l2a_safe(tmp_path, scene["truth"], driver="GTiff")["SCL"]
    assert_same_area(
        load_area(plain["SAR"], dem, stack, scl_path=scl), scene["area"], OPTICAL_LEVELS
    )
    # the SCL given as the mask is recognised by its name
    assert_same_area(load_area(plain["SAR"], dem, stack, scl), scene["area"], OPTICAL_LEVELS)


def _rename(path: str, old: str, new: str) -> str:
    target = Path(path).with_name(Path(path).name.replace(old, new))
    shutil.copy(path, target)
    return str(target)


def _mismatches(root: Path, scene: dict) -> dict[str, tuple[dict, str]]:  # type: ignore[type-arg]
    """(load_area arguments, the sentence expected) for each mismatch."""
    t, plain = scene["truth"], scene["plain"]
    good = {"sar_path": plain["SAR"], "dem_path": scene["dem"], "optical_path": plain["OPTICAL"]}
    l2a = products.write_l2a_safe(root / "l2a", t, driver="GTiff")
    l1c = products.write_l2a_safe(root / "l1c", t, driver="GTiff", level="L1C")
    rtc = products.write_rtc(root / "rtc", t, "p")
    lone = products.copy_without([rtc["VV"]], root / "lone", "_VH")[0]
    snap = products.write_snap_geotiff(root / "snap", t)

    def two_bands(name: str, descriptions: list[str], values: np.ndarray | None = None) -> str:
        data = np.stack([t.vv, t.vh]) if values is None else values
        path = root / name
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=96,
            height=96,
            count=2,
            dtype=data.dtype,
            crs=products.SAR_CRS,
            transform=products.SAR_TRANSFORM,
        ) as ds:
            ds.write(data)
            for i, d in enumerate(descriptions, start=1):
                ds.set_band_description(i, d)
        return str(path)

    far = root / "far_rgb.tif"
    with rasterio.open(plain["OPTICAL"]) as src:
        profile = src.profile | {"transform": src.transform * Affine.translation(20_000, 0)}
        with rasterio.open(far, "w", **profile) as dst:
            dst.write(src.read())
    stack_without_red = root / "stack_b2_b3_b8.tif"
    shutil.copy(products.write_l2a_stack(root / "stack", t), stack_without_red)
    with rasterio.open(stack_without_red, "r+") as ds:
        ds.set_band_description(3, "B8")
    uncalibrated = np.stack([np.full((96, 96), 180, np.uint16), np.full((96, 96), 60, np.uint16)])
    no_green = products.copy_without([l2a["B04"], l2a["B02"]], root / "no_green", "B03")[0]
    in_db = products.write_rtc(root / "db", t, "d")["VV"]
    other_scene = _rename(l2a["SCL"], "20230801", "20230806")
    l1c_sentence = (
        r"comes with Sentinel-2 L2A products, but the optical image "
        r"'T33TUM_20230801T101031_B04.tif' is Level-1C"
    )
    cases = [
        (
            "no overlap",
            {"optical_path": str(far)},
            r"optical raster 'far_rgb.tif' does not overlap",
        ),
        (
            "optical band missing",
            {"optical_path": no_green},
            r"No green band \(B03\) beside 'T33TUM_20230801T101031_B04_10m.tif'",
        ),
        (
            "stack without red",
            {"optical_path": str(stack_without_red)},
            r"names its bands \(B2, B3, B8, B8\) but none is red \(B04\)",
        ),
        (
            "VV/VH ambiguous",
            {"sar_path": two_bands("vv_and_what.tif", ["Sigma0_VV", "Amplitude"])},
            r"VV and VH are ambiguous in 'vv_and_what.tif'",
        ),
        (
            "two VV bands",
            {"sar_path": two_bands("vv_twice.tif", ["Sigma0_VV", "VV"])},
            r"has several VV bands \(1 Sigma0_VV, 2 VV\)",
        ),
        (
            "HH/HV",
            {"sar_path": _rename(rtc["VV"], "_VV", "_HH")},
            r"holds HH \(HH/HV, a polar or ice mode acquisition\)",
        ),
        ("VH twin missing", {"sar_path": lone}, r"its VH twin '.*_VH.tif' is not beside it"),
        ("SCL for Level-1C", {"optical_path": l1c["B04"], "scl_path": l2a["SCL"]}, l1c_sentence),
        (
            "SCL of another scene",
            {"optical_path": l2a["B04"], "scl_path": other_scene},
            r"is of scene T33TUM_20230806T101031, not of the optical",
        ),
        (
            "not an SCL",
            {"scl_path": _rename(scene["dem"], "dem_wgs84", "dem_SCL")},
            r"'dem_SCL.tif' is not a scene classification layer",
        ),
        (
            "dB set, linear values",
            {"config_units": "db"},
            r"'sar.tif' is set as dB, but its values are positive",
        ),
        (
            "linear set, dB values",
            {"sar_path": in_db, "config_units": "linear"},
            r"is set as linear power, but most of its values are negative",
        ),
        (
            "named dB, linear values",
            {"sar_path": _rename(snap, ".tif", "_db.tif")},
            r"is named as dB, but its values are positive .*; choose linear power for",
        ),
        (
            "uncalibrated",
            {"sar_path": two_bands("grd_dn.tif", ["VV", "VH"], uncalibrated)},
            r"\(median 120\) are not calibrated backscatter",
        ),
    ]
    return {case: ({**good, **kwargs}, sentence) for case, kwargs, sentence in cases}


def test_each_mismatch_is_one_sentence(scene, tmp_path) -> None:
    from geohazard.engine.families.sar_to_optical.data import PrepConfig

    for case, (kwargs, sentence) in _mismatches(tmp_path, scene).items():
        units = kwargs.pop("config_units", "auto")
        with pytest.raises(GeohazardError, match=sentence) as err:
            load_area(**kwargs, config=PrepConfig(sar_units=units))
        message = str(err.value)
        assert message.count(". ") == 0 and message.endswith("."), (case, message)


def _script(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [sys.executable, SCRIPT, "--patch", "32", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_prepare_script_takes_the_product_layouts(scene, tmp_path) -> None:
    """A manifest of a BEAM-DIMAP header with an L2A .SAFE folder and its SCL, and a command
    line area of a HyP3 dB file with an L2A stack and the SCL as MASK: the same patches as the
    plain twins."""
    t, plain, dem = scene["truth"], scene["plain"], scene["dem"]
    dim = products.write_beam_dimap(tmp_path / "dimap", t)
    l2a = products.write_l2a_safe(tmp_path / "l2a", t, driver="GTiff")
    manifest = tmp_path / "areas.json"
    manifest.write_text(
        json.dumps(
            {
                "areas": [
                    {
                        "name": "dimap",
                        "sar": dim,
                        "dem": dem,
                        "optical": l2a["SAFE"],
                        "scl": l2a["SCL"],
                        "split": "train",
                    },
                    {
                        "name": "plain",
                        "sar": plain["SAR"],
                        "dem": dem,
                        "optical": plain["OPTICAL"],
                        "mask": plain["MASK"],
                        "split": "test",
                    },
                ]
            }
        )
    )
    proc = _script("--manifest", str(manifest), "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    assert "SAR: VV from 'Sigma0_VV.img', VH from 'Sigma0_VH.img'; linear." in proc.stdout
    assert "reflectance = (value -1000) / 10000 (MTD_MSIL2A.xml), 0 is no data" in proc.stdout
    hyp3 = products.write_rtc(tmp_path / "rtc", t, "d")["VV"]
    stack = products.write_l2a_stack(tmp_path / "stack", t)
    proc = _script("--out", str(tmp_path / "c"), "--area", "rtc", hyp3, dem, stack, l2a["SCL"])
    assert proc.returncode == 0, proc.stderr
    assert "; db." in proc.stdout
    expected = load_split(str(tmp_path / "m"), "test")
    assert len(expected["inputs"]) >= 4
    for got in (load_split(str(tmp_path / "m"), "train"), load_split(str(tmp_path / "c"), "train")):
        for key in ("inputs", "valid", "classes", "origins"):
            assert np.array_equal(got[key], expected[key]), key
        levels = np.abs(got["targets"].astype(int) - expected["targets"].astype(int))
        assert levels.max() <= OPTICAL_LEVELS


def test_prepare_script_says_each_mismatch_in_one_sentence(scene, tmp_path) -> None:
    t, plain, dem = scene["truth"], scene["plain"], scene["dem"]
    l1c = products.write_l2a_safe(tmp_path / "l1c", t, driver="GTiff", level="L1C")
    scl = products.write_l2a_safe(tmp_path / "l2a", t, driver="GTiff")["SCL"]
    proc = _script("--out", str(tmp_path / "o"), "--area", "x", plain["SAR"], dem, l1c["B04"], scl)
    assert proc.returncode == 2
    assert "is Level-1C; use the L2A bands, or give a cloud mask as MASK." in proc.stderr
    proc = _script(
        "--out",
        str(tmp_path / "o"),
        "--sar-units",
        "db",
        "--area",
        "x",
        plain["SAR"],
        dem,
        plain["OPTICAL"],
    )
    assert proc.returncode == 2 and "choose linear power or auto" in proc.stderr
    assert not (tmp_path / "o" / "train.npz").exists()
