"""The training log a user reads (the training dialog shows the algorithm's log) is made of
readable lines: the step with its losses and the time left, the validation metric with its
unit; never a raw dictionary."""

from __future__ import annotations

import re
from pathlib import Path

from processing_runs import RecordingFeedback
from test_dem_sr_train_qgis import TRAIN, _params, dem, one_thread, user_models  # noqa: F401


def test_training_log_lines_are_readable(user_models, dem, tmp_path: Path) -> None:  # noqa: F811
    import processing

    feedback = RecordingFeedback()
    params = _params(dem, tmp_path, "pytest_log_lines", VALIDATION_SHARE=0.3)
    processing.run(TRAIN, params, feedback=feedback)
    lines = feedback.messages
    ours = [m for m in lines if not m.startswith("Results:")]  # QGIS's own summary
    assert not [m for m in ours if "{" in m or "}" in m], [m for m in ours if "{" in m]
    for line in (m for m in lines if m.startswith("Step ")):  # every log_every steps
        assert re.match(r"Step \d+/\d+ \(.+\): .*loss \d.*s/step", line), line
        assert re.search(r"left|last step done", line), line
    validations = [m for m in lines if m.startswith("Validation")]
    assert validations, lines
    for line in validations:
        assert re.match(r"Validation at step \d+/\d+ \(\w+\): ", line), line
        assert re.search(r"RMSE \d+(\.\d+)? m\b", line), line  # the metric with its unit
        assert re.search(r"training .*loss \d", line), line  # the losses
        assert re.search(r"\bleft\b|last step done", line), line  # the time left
