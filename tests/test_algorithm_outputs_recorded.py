"""Every algorithm writes, on the small seeded test rasters, exactly the recorded output: the
SHA-256 of each output raster's arrays (with dtype, shape and band descriptions), of each vector
output's features (attributes and geometry) and of each fine-tuned model's tensors, and the
numbers it returns, equal those in tests/data/algorithm_outputs.json.

Covered: every algorithm of the provider but the shipped graphical model ``landslideevent``,
which chains offsettracking, landslideareas and displacementarrows, each covered here. The
training runs use one torch thread and a fixed seed, which makes them repeatable on a CPU.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dem_rasters import utm_dem
from displacement_rasters import tilted_dem, two_lobes
from fixtures_io import recorded
from qgis.core import QgsProcessingFeedback, QgsVectorLayer
from sar_pairs import write_pair

RECORD = "algorithm_outputs.json"
COVERED_ELSEWHERE = {"geohazard:landslideevent"}


def _raster(path: str) -> dict[str, Any]:
    import rasterio

    with rasterio.open(path) as src:
        data = src.read()
        digest = hashlib.sha256(f"{data.dtype}:{data.shape}:".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
        return {
            "sha256": digest.hexdigest(),
            "bands": list(src.descriptions),
            "transform": list(src.transform)[:6],
        }


def _vector(path: str) -> dict[str, Any]:
    layer = QgsVectorLayer(path, "v", "ogr")
    assert layer.isValid(), path
    rows = [
        json.dumps([repr(v) for v in f.attributes()] + [f.geometry().asWkt(17)])
        for f in layer.getFeatures()
    ]
    digest = hashlib.sha256("\n".join(sorted(rows)).encode())
    return {"sha256": digest.hexdigest(), "features": len(rows), "fields": layer.fields().names()}


def _weights(path: str) -> str:
    from safetensors.numpy import load_file

    digest = hashlib.sha256()
    for name, array in sorted(load_file(path).items()):
        digest.update(f"{name}:{array.dtype}:{array.shape}:".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _summary(results: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, kind in kinds.items():
        value = results[key]
        out[key] = {"raster": _raster, "vector": _vector, "weights": _weights}.get(
            kind, lambda v: repr(v)
        )(value)
    return out


def _run(alg: str, params: dict[str, Any]) -> dict[str, Any]:
    import processing

    return processing.run(alg, params, feedback=QgsProcessingFeedback())


@pytest.fixture(autouse=True)
def one_thread():  # type: ignore[no-untyped-def]
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    import os
    import shutil

    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _shifted_stack(folder: Path) -> list[str]:
    """Four dated images of one texture moving 0.5 px east per date."""
    import datetime as dt

    from scipy import ndimage
    from time_series_stack import write_tif

    folder.mkdir()
    rng = np.random.default_rng(3)
    base = ndimage.gaussian_filter(rng.gamma(2.0, 1.0, (96, 96)), 1.0) + 0.1
    paths = []
    for k in range(4):
        date = dt.date(2024, 1, 10) + dt.timedelta(days=30 * k)
        path = str(folder / f"img_{date.strftime('%Y%m%d')}.tif")
        write_tif(path, ndimage.shift(base, (0, 0.5 * k), order=3, mode="nearest"))
        paths.append(path)
    return paths


def _cases(tmp: Path) -> dict[str, tuple[str, dict[str, Any], dict[str, str]]]:
    """case name -> (algorithm id, parameters, what each checked output is)."""
    from test_deep_offsets_train_qgis import write_training_pair
    from test_sar_to_optical import write_inputs
    from test_sar_to_optical_train_qgis import write_area

    rows, cols = np.mgrid[0:64, 0:64]
    dy = (0.6 + 0.01 * rows).astype(np.float32)
    dx = (-0.8 + 0.015 * cols).astype(np.float32)
    (tmp / "pair").mkdir()
    ref, sec = write_pair(tmp / "pair", dy, dx)
    dem = utm_dem(tmp / "dem.tif", shape=(40, 48))
    other = utm_dem(tmp / "other.tif", shape=(40, 48), seed=9)
    sar, sar_dem = write_inputs(tmp / "sar")
    disp = two_lobes(tmp / "disp.tif")
    slope = tilted_dem(tmp / "slope.tif")
    (tmp / "ft").mkdir()
    ft_dem = utm_dem(tmp / "ft" / "dem.tif", shape=(96, 96), seed=11)
    o = lambda name: str(tmp / name)  # noqa: E731
    raster = {"OUTPUT": "raster"}
    train = {"MODEL_PATH": "weights", "STEPS": "number"}
    tiny = {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCH_SIZE": 32, "DEVICE": 1, "SEED": 0}
    cases = {
        "offsettracking": (
            "geohazard:offsettracking",
            {"REFERENCE": ref, "SECONDARY": sec, "STEP": 8, "OUTPUT": o("ot.tif")},
            raster,
        ),
        "deepoffsettracking": (
            "geohazard:deepoffsettracking",
            {"REFERENCE": ref, "SECONDARY": sec, "DEVICE": 1, "OUTPUT": o("dot.tif")},
            raster,
        ),
        "topographicphase": (
            "geohazard:topographicphase",
            {"INPUT": dem, "COMPARE_DEM": other, "OUTPUT": o("tp.tif")},
            {"OUTPUT": "raster", "HEIGHT_OF_AMBIGUITY": "number", "RESIDUAL_RMS": "number"},
        ),
        "sardistortion": ("geohazard:sardistortion", {"DEM": dem, "OUTPUT": o("sd.tif")}, raster),
        "evaluatedem": (
            "geohazard:evaluatedem",
            {"INPUT": dem, "REFERENCE": other, "OUTPUT": o("ev.tif")},
            {
                "OUTPUT": "raster",
                "PSNR": "number",
                "SSIM": "number",
                "RMSE": "number",
                "MAE": "number",
                "BIAS": "number",
                "SLOPE_RMSE": "number",
            },
        ),
        "landslideareas": (
            "geohazard:landslideareas",
            {
                "INPUT": disp,
                "DEM": slope,
                "THRESHOLD": 0.5,
                "MIN_AREA": 1000,
                "OUTPUT": o("la.gpkg"),
            },
            {"OUTPUT": "vector", "COUNT": "number"},
        ),
        "displacementarrows": (
            "geohazard:displacementarrows",
            {"INPUT": disp, "OUTPUT": o("da.gpkg")},
            {"OUTPUT": "vector"},
        ),
        "traindemsuperresolution": (
            "geohazard:traindemsuperresolution",
            {
                "INPUT": [ft_dem],
                "OUTPUT_MODEL": "pytest_rec_dem",
                **tiny,
                "PATCH_SIZE": 16,
                "ADVERSARIAL_SHARE": 0.2,
            },
            train,
        ),
        "trainsartooptical": (
            "geohazard:trainsartooptical",
            {**write_area(tmp / "area"), "OUTPUT_MODEL": "pytest_rec_sar", **tiny},
            train,
        ),
        "traindeepoffsettracking": (
            "geohazard:traindeepoffsettracking",
            {**write_training_pair(tmp / "trainpair"), "OUTPUT_MODEL": "pytest_rec_do", **tiny},
            train,
        ),
    }
    cases["displacementtimeseries"] = (
        "geohazard:displacementtimeseries",
        {
            "INPUT": _shifted_stack(tmp / "stack"),
            "WINDOW_SIZES": "16",
            "STEP": 8,
            "SEARCH": 4,
            "OUTPUT": o("series.tif"),
            "VELOCITY_OUTPUT": o("velocity.tif"),
        },
        {"OUTPUT": "raster", "VELOCITY_OUTPUT": "raster"},
    )
    for scale in (2, 4):
        for model in ("default", "spline"):
            cases[f"demsuperresolution_x{scale}_{model}"] = (
                "geohazard:demsuperresolution",
                {
                    "INPUT": dem,
                    "SCALE": scale,
                    "MODEL": model,
                    "DEVICE": 1,
                    "OUTPUT": o(f"sr{scale}{model}.tif"),
                },
                raster,
            )
    for fusion in range(4):
        cases[f"sartooptical_fusion{fusion}"] = (
            "geohazard:sartooptical",
            {
                "SAR": sar,
                "DEM": sar_dem,
                "FUSION": fusion,
                "ENHANCE": fusion % 3,
                "DEVICE": 1,
                "OUTPUT": o(f"s2o{fusion}.tif"),
            },
            raster,
        )
    return cases


def test_every_algorithm_is_covered(plugin, tmp_path: Path) -> None:
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("geohazard")
    ids = {a.id() for a in provider.algorithms()} - COVERED_ELSEWHERE
    assert ids == {alg for alg, _, _ in _cases(tmp_path).values()}


def test_outputs_equal_the_recorded_ones(plugin, user_models, tmp_path: Path) -> None:
    outputs = {
        name: _summary(_run(alg, params), kinds)
        for name, (alg, params, kinds) in _cases(tmp_path).items()
    }
    expected = recorded(RECORD, outputs)
    assert sorted(outputs) == sorted(expected)
    for name, value in expected.items():
        assert outputs[name] == value, name
