"""geohazard:deepoffsettracking in a real QGIS: parameters, processing.run, qgis_process, style and
bad input (a clear QgsProcessingException, inputs unchanged, nothing left in the output folder)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio
from deep_offset_models import save_tiny_model
from geohazard.engine.families.deep_offsets.task import OUTPUT_BANDS
from geohazard.engine.models.model_store import BUNDLED_DIR
from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsProject, QgsRasterLayer
from sar_pairs import write_pair

ROOT = Path(__file__).resolve().parents[1]
ALG = "geohazard:deepoffsettracking"
SHIFT = (0.5, -1.5)


class CancellingFeedback(QgsProcessingFeedback):
    def __init__(self, at: float) -> None:
        super().__init__()
        self.progressChanged.connect(lambda v: self.cancel() if v >= at else None)


def _digest(*paths: str) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    shape = (128, 128)
    folder = tmp_path / "in"
    folder.mkdir()
    return write_pair(
        folder, np.full(shape, SHIFT[0], np.float32), np.full(shape, SHIFT[1], np.float32)
    )


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return save_tiny_model(tmp_path / "models", "tiny_zero", "zero")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _run(params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(ALG, params, feedback=feedback or QgsProcessingFeedback())


def _expect_failure(
    params: dict, match: str, inputs: tuple[str, ...], out_dir: Path, feedback=None
) -> None:  # type: ignore[no-untyped-def]
    before = _digest(*inputs)
    with pytest.raises(QgsProcessingException, match=match):
        _run(params, feedback)
    assert _digest(*inputs) == before, "an input was modified"
    assert [p.name for p in out_dir.iterdir()] == [], "something was left behind"


def test_registered_with_the_contract_parameters(plugin) -> None:
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names == [
        "REFERENCE",
        "SECONDARY",
        "BAND",
        "MODEL",
        "TILE_SIZE",
        "OVERLAP",
        "BATCH",
        "DEVICE",
        "OUTPUT",
    ]
    assert alg.parameterDefinition("DEVICE").options() == ["auto", "cpu", "cuda"]
    help_text = alg.shortHelpString()
    assert "CC-ResSiamNet" in help_text and "1-sigma" in help_text and "114577" in help_text


def test_processing_run_writes_the_dense_six_band_layout(plugin, pair, tiny, out_dir) -> None:
    out = str(out_dir / "deep.tif")
    result = _run(
        {"REFERENCE": pair[0], "SECONDARY": pair[1], "MODEL": tiny, "DEVICE": 1, "OUTPUT": out}
    )
    assert result["OUTPUT"] == out
    with rasterio.open(out) as ds, rasterio.open(pair[0]) as ref:
        assert ds.count == 6 and list(ds.descriptions) == list(OUTPUT_BANDS)
        assert ds.transform == ref.transform and ds.shape == ref.shape  # one value per pixel
        east, north = ds.read(1), ds.read(2)
    assert np.nanmedian(east[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=0.5)
    assert np.nanmedian(north[24:-24, 24:-24]) == pytest.approx(-10 * SHIFT[0], abs=0.5)


def test_output_loads_styled_by_magnitude(plugin, pair, tiny, out_dir) -> None:
    import processing
    from qgis.core import QgsProcessingContext

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    out = str(out_dir / "deep.tif")
    processing.runAndLoadResults(
        ALG,
        {"REFERENCE": pair[0], "SECONDARY": pair[1], "MODEL": tiny, "OUTPUT": out},
        context=context,
    )
    layers = [lyr for lyr in QgsProject.instance().mapLayers().values() if lyr.source() == out]
    assert layers and isinstance(layers[0], QgsRasterLayer)
    assert layers[0].renderer().band() == 3
    QgsProject.instance().removeAllMapLayers()


def test_default_model_is_bundled_and_runs(plugin, pair, out_dir) -> None:
    assert (Path(BUNDLED_DIR) / "deep_offsets_small.safetensors").exists()
    out = str(out_dir / "deep.tif")
    _run({"REFERENCE": pair[0], "SECONDARY": pair[1], "OUTPUT": out})
    with rasterio.open(out) as ds:
        east, sigma = ds.read(1), ds.read(5)
    assert np.nanmedian(east[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=1.0)
    assert np.all(sigma[np.isfinite(sigma)] > 0)


def test_a_dem_model_is_refused(plugin, pair, out_dir) -> None:
    dem_model = str(Path(BUNDLED_DIR) / "dem_sr_x4.safetensors")
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": dem_model,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "dem-super-resolution",
        pair,
        out_dir,
    )


def test_weights_that_do_not_match_their_card_are_refused(
    plugin, pair, tiny, tmp_path, out_dir
) -> None:
    weights = tmp_path / "mine.safetensors"
    shutil.copy(tiny, weights)
    card = json.loads(Path(tiny).with_suffix(".json").read_text())
    card["architecture"]["base_ch"] = 8
    weights.with_suffix(".json").write_text(json.dumps(card))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": str(weights),
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "do not match the architecture",
        (*pair, str(weights)),
        out_dir,
    )


def test_corrupt_weights_are_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    weights = tmp_path / "cut.safetensors"
    weights.write_bytes(Path(tiny).read_bytes()[:3000])
    shutil.copy(Path(tiny).with_suffix(".json"), weights.with_suffix(".json"))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": str(weights),
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "not a valid safetensors file",
        (*pair, str(weights)),
        out_dir,
    )


def test_all_nodata_secondary_is_refused(plugin, pair, tiny, tmp_path, out_dir) -> None:
    empty = tmp_path / "empty.tif"
    with rasterio.open(pair[1]) as src:
        profile = src.profile
    profile.update(nodata=0)
    with rasterio.open(empty, "w", **profile) as dst:
        dst.write(np.zeros((1, profile["height"], profile["width"]), np.float32))
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": str(empty),
            "MODEL": tiny,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "all nodata",
        (pair[0], str(empty)),
        out_dir,
    )


def test_cancel_leaves_nothing(plugin, pair, tiny, out_dir) -> None:
    _expect_failure(
        {
            "REFERENCE": pair[0],
            "SECONDARY": pair[1],
            "MODEL": tiny,
            "TILE_SIZE": 64,
            "OVERLAP": 16,
            "OUTPUT": str(out_dir / "o.tif"),
        },
        "Cancel",
        pair,
        out_dir,
        CancellingFeedback(50.0),
    )


def test_qgis_process_runs_end_to_end(pair, tiny, tmp_path) -> None:
    out = tmp_path / "qp.tif"
    proc = subprocess.run(
        [
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            ALG,
            "--",
            f"REFERENCE={pair[0]}",
            f"SECONDARY={pair[1]}",
            f"MODEL={tiny}",
            f"OUTPUT={out}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with rasterio.open(out) as ds:
        assert ds.count == 6
        assert np.nanmedian(ds.read(1)[24:-24, 24:-24]) == pytest.approx(10 * SHIFT[1], abs=0.5)
