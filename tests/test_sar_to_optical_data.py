"""SAR/DEM/optical data preparation: alignment on the SAR grid, transforms, masks, patches,
splits by whole area, the command line, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.families.sar_to_optical.data import (
    AreaSpec,
    PrepConfig,
    assign_splits,
    cut_patches,
    load_area,
    load_split,
    log_compress,
    patch_origins,
    prepare_dataset,
)
from geohazard.engine.io.raster_io import Grid, write_raster
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
UTM = CRS.from_epsg(32631)
X0, Y0, PX = 700_000.0, 5_000_000.0, 10.0


def _grid(shape: tuple[int, int], px: float = PX, x0: float = X0, y0: float = Y0) -> Grid:
    return Grid(UTM, Affine(px, 0, x0, 0, -px, y0), shape[1], shape[0])


def _area_files(folder: Path, shape=(300, 320), seed: int = 0, x0: float = X0) -> dict[str, str]:
    """SAR (sigma0 on a 10 m grid), a DEM on a 20 m grid shifted by half a pixel, and an RGB
    image on a 5 m grid covering the same ground."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    vv = 10 ** ((-12 + 4 * np.sin(cols / 30.0)) / 10) * np.ones(shape)
    vh = vv / 10.0 * rng.uniform(0.9, 1.1, shape)
    sar = write_raster(
        str(folder / "sar.tif"), np.stack([vv, vh]), _grid(shape, x0=x0), ["VV", "VH"]
    )
    dshape = (shape[0] // 2 + 2, shape[1] // 2 + 2)
    dr, dc = np.mgrid[0 : dshape[0], 0 : dshape[1]]
    dem_grid = _grid(dshape, 20.0, x0 - 15.0, Y0 + 15.0)
    x = x0 - 15.0 + (dc + 0.5) * 20.0  # easting of DEM pixel centres
    dem = write_raster(str(folder / "dem.tif"), (1000.0 + 0.1 * (x - x0))[None], dem_grid, ["z"])
    oshape = (shape[0] * 2, shape[1] * 2)
    orows, ocols = np.mgrid[0 : oshape[0], 0 : oshape[1]]
    rgb = np.stack([0.02 + 2e-4 * ocols, 0.05 + 1e-4 * orows, 0.08 + 5e-5 * (orows + ocols)])
    optical = write_raster(str(folder / "rgb.tif"), rgb, _grid(oshape, 5.0, x0), ["R", "G", "B"])
    return {"sar": sar, "dem": dem, "optical": optical}


def test_log_compression_in_linear_and_db_units() -> None:
    sigma0 = np.array([1e-3, 10 ** (-1.25), 1.0, np.nan])
    out = log_compress(sigma0, "auto", (-30.0, 5.0))
    assert out[:3] == pytest.approx([0.0, 0.5, 30 / 35])
    assert np.isnan(out[3])
    assert log_compress(np.array([-12.5]), "auto", (-30.0, 5.0))[0] == pytest.approx(0.5)


def test_area_is_aligned_on_the_sar_grid_with_the_papers_transforms(tmp_path) -> None:
    files = _area_files(tmp_path)
    area = load_area(files["sar"], files["dem"], files["optical"])
    assert area.inputs.shape == (3, 300, 320) and area.target.shape == (3, 300, 320)
    assert area.grid.same_as(_grid((300, 320)))
    inner = (slice(5, -5), slice(5, -5))
    # DEM resampled from its 20 m grid: 1000 m + 0.1 m per metre east, over 4808 m
    cols = np.arange(320)[None, :] * np.ones((300, 1))
    expected = (1000.0 + 0.1 * (cols + 0.5) * PX) / 4808.0
    assert np.allclose(area.inputs[2][inner], expected[inner], atol=2e-5)
    # SAR: (dB + 30) / 35
    vv_db = -12 + 4 * np.sin(cols / 30.0)
    assert np.allclose(area.inputs[0][inner], ((vv_db + 30) / 35)[inner], atol=1e-5)
    # optical stretched channel-wise to the full range
    for band in area.target:
        assert band.min() == 0.0 and band.max() == 1.0
    assert area.target[0][:, 200].mean() > area.target[0][:, 100].mean()  # red grows east
    assert area.valid[inner].all()


def test_masked_and_nodata_pixels_are_zero_everywhere(tmp_path) -> None:
    files = _area_files(tmp_path)
    mask = np.zeros((300, 320))
    mask[50:100, 60:120] = 1  # a cloud
    mask_path = write_raster(str(tmp_path / "cloud.tif"), mask[None], _grid((300, 320)), ["m"])
    area = load_area(files["sar"], files["dem"], files["optical"], mask_path)
    assert not area.valid[50:100, 60:120].any()
    assert np.all(area.inputs[:, 50:100, 60:120] == 0)
    assert np.all(area.target[:, 50:100, 60:120] == 0)
    assert np.all(area.classes[50:100, 60:120] == 255)
    assert area.valid[150:, 150:].all()


def test_patches_and_splits_by_whole_area(tmp_path) -> None:
    assert patch_origins((300, 320), 256, 256) == [(0, 0), (0, 64), (44, 0), (44, 64)]
    specs = []
    for i in range(4):
        files = _area_files(tmp_path / f"a{i}", seed=i, x0=X0 + 10_000 * i)
        specs.append(AreaSpec(f"area{i}", files["sar"], files["dem"], files["optical"]))
    specs[0].split = "test"
    cfg = PrepConfig(patch=128, stride=128)
    area = load_area(specs[1].sar, specs[1].dem, specs[1].optical, config=cfg)
    patches = cut_patches(area, cfg)
    assert patches["inputs"].shape == (9, 3, 128, 128) and patches["targets"].dtype == np.uint8
    counts = prepare_dataset(specs, str(tmp_path / "out"), cfg, seed=1)
    # area0 is test by the manifest; the other three are shared out one per split
    assert counts == {"train": 9, "validation": 9, "test": 18}
    meta = json.loads((tmp_path / "out" / "dataset.json").read_text())
    split_of = {a["name"]: a["split"] for a in meta["areas"]}
    assert split_of["area0"] == "test"
    seen = {}
    for split in ("train", "validation", "test"):
        data = load_split(str(tmp_path / "out"), split)
        assert data["inputs"].shape[0] == counts[split]
        for idx in set(data["area"].tolist()):
            assert idx not in seen, "one area in two splits"
            seen[idx] = split
    assert len(seen) == 4
    names = [f"n{i}" for i in range(20)]
    split = assign_splits(names, seed=3)
    assert (
        sorted(split.values()).count("test") == 2 and list(split.values()).count("validation") == 2
    )


def test_command_line(tmp_path) -> None:
    files = _area_files(tmp_path / "a")
    out = tmp_path / "prepared"
    script = str(ROOT / "scripts" / "prepare_sar_optical.py")
    cmd = [sys.executable, script, "--out", str(out), "--patch", "128",
           "--area", "one", files["sar"], files["dem"], files["optical"]]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "patches: train 9, validation 0, test 0" in proc.stdout  # a single area: training
    assert "resampled onto the SAR grid" in proc.stdout  # the DEM's 20 m grid
    assert load_split(str(out), "train")["inputs"].shape == (9, 3, 128, 128)


def test_bad_input_is_refused_with_one_sentence(tmp_path) -> None:
    files = _area_files(tmp_path / "a")
    one_band = write_raster(str(tmp_path / "s0.tif"), np.ones((1, 64, 64)), _grid((64, 64)), ["s0"])
    with pytest.raises(GeohazardError, match="needs two bands, VV then VH"):
        load_area(one_band, files["dem"], files["optical"])
    far = write_raster(
        str(tmp_path / "far.tif"), np.ones((1, 64, 64)), _grid((64, 64), x0=100_000.0), ["z"]
    )
    with pytest.raises(GeohazardError, match="does not overlap"):
        load_area(files["sar"], far, files["optical"])
    with pytest.raises(GeohazardError, match="needs three"):
        load_area(files["sar"], files["dem"], files["dem"])
    script = str(ROOT / "scripts" / "prepare_sar_optical.py")
    cmd = [sys.executable, script, "--out", str(tmp_path / "o"),
           "--area", "x", one_band, files["dem"], files["optical"]]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "VV then VH" in proc.stderr
