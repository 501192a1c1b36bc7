"""Training targets no displacement can have, through processing.run in the real QGIS
(geohazard:traindeepoffsettracking): offsets longer than the image itself (a million metres) are
refused before anything is trained or saved; offsets beyond the search the base model was
trained for (its card's trained_max_px) are trained on, with a warning that counts them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from geohazard.engine.io.raster_io import write_raster
from geohazard.engine.simulate import displacement
from qgis.core import QgsProcessingException
from run_checks import RecordingFeedback, run, snapshot
from sar_pairs import utm_grid, write_pair

TRAIN = "geohazard:traindeepoffsettracking"
SHAPE = (192, 192)
PIXEL = 10.0  # m (utm_grid)
TINY = {"EPOCHS": 1, "BATCH_SIZE": 2, "PATCH_SIZE": 32, "DEVICE": 1}


@pytest.fixture
def user_models(plugin):  # type: ignore[no-untyped-def]
    from geohazard.settings import user_models_folder

    folder = user_models_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    yield folder
    for name in set(os.listdir(folder)) - before if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            import shutil

            shutil.rmtree(path)
        else:
            os.remove(path)


def _pair(folder: Path, east_m: float) -> dict[str, str]:
    """A speckled pair (a smooth field of up to 2 px) and targets of ``east_m`` metres east."""
    folder.mkdir(parents=True)
    fy, fx = displacement.smooth_random_field(SHAPE, 2.0, 80.0, 4)
    ref, sec = write_pair(folder, fy, fx)
    offsets = np.stack([np.full(SHAPE, east_m), -fy * PIXEL]).astype(np.float32)
    targets = write_raster(str(folder / "targets.tif"), offsets, utm_grid(SHAPE), ["e", "n"])
    return {"REFERENCE": ref, "SECONDARY": sec, "TARGETS": targets}


def test_offsets_longer_than_the_image_are_refused(plugin, user_models, tmp_path) -> None:
    pair = _pair(tmp_path / "pair", 1e6)
    before = snapshot(user_models) if os.path.isdir(user_models) else {}
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as err:
        run(TRAIN, {**pair, "OUTPUT_MODEL": "impossible_targets", **TINY}, feedback)
    text = str(err.value)
    assert (
        f"'targets.tif' holds {SHAPE[0] * SHAPE[1]} target offset(s) longer than the image "
        "itself (192 x 192 px; up to 1e+06 m)" in text
    ), text
    assert feedback.max_progress == 0, "training started before the targets were refused"
    assert (snapshot(user_models) if os.path.isdir(user_models) else {}) == before


def test_offsets_beyond_the_trained_search_are_counted(plugin, user_models, tmp_path) -> None:
    from geohazard.engine.families.deep_offsets.task import TASK
    from geohazard.engine.models.model_store import ModelStore

    card = ModelStore(None).load(TASK, "default", TASK.default_model()).card
    trained = float(card.normalisation.params["trained_max_px"])
    east_px = trained + 8.0  # beyond the trained search, well within the 192 px image
    pair = _pair(tmp_path / "pair", east_px * PIXEL)
    feedback = RecordingFeedback()
    run(TRAIN, {**pair, "OUTPUT_MODEL": "far_targets", **TINY}, feedback)
    warnings = [m for k, m in feedback.events if k == "warning" and "targets.tif" in str(m)]
    assert len(warnings) == 1, feedback.text()
    count = SHAPE[0] * SHAPE[1]
    assert f"'targets.tif': {count} target pixel(s) move more than the {trained:.0f} px" in str(
        warnings[0]
    ), warnings
