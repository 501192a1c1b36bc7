"""A run's log says each fact once (the device choice was logged twice per deep tracker run)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from processing_runs import RecordingFeedback
from sar_pairs import write_pair


def _repeated(messages: list[str]) -> list[str]:
    return [m for m, n in Counter(messages).items() if n > 1]


def test_every_line_of_a_tracker_run_appears_once(plugin, tmp_path: Path) -> None:
    import processing

    shape = (96, 96)
    reference, secondary = write_pair(tmp_path, np.zeros(shape), np.ones(shape))
    for alg in ("geohazard:deepoffsettracking", "geohazard:offsettracking"):
        feedback = RecordingFeedback()
        processing.run(
            alg,
            {"REFERENCE": reference, "SECONDARY": secondary, "OUTPUT": "TEMPORARY_OUTPUT"},
            feedback=feedback,
        )
        assert any(m.startswith("Device") for m in feedback.messages), feedback.messages
        assert not _repeated(feedback.messages), (alg, _repeated(feedback.messages))
