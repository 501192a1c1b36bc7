"""The algorithm log says which device ran and why, through processing.run in QGIS."""

from __future__ import annotations

import numpy as np
import torch
from geohazard.settings import DeviceSettings, load_device_settings, save_device_settings
from qgis.core import QgsProcessingFeedback


class Feedback(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.lines.append(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802
        self.lines.append("WARNING " + warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.lines.append("ERROR " + error)


def _run(tmp_path, device: int, name: str) -> list[str]:
    import processing
    from sar_pairs import write_pair

    ref, sec = write_pair(tmp_path, np.full((64, 64), 1.0), np.zeros((64, 64)))
    feedback = Feedback()
    processing.run(
        "geohazard:offsettracking",
        {
            "REFERENCE": ref,
            "SECONDARY": sec,
            "WINDOW_SIZES": "32",
            "STEP": 16,
            "SEARCH": 4,
            "DEVICE": device,
            "OUTPUT": str(tmp_path / f"{name}.tif"),
        },
        feedback=feedback,
    )
    return feedback.lines


def test_log_names_device_and_reason(plugin, tmp_path):
    before = load_device_settings()
    try:
        save_device_settings(DeviceSettings("auto", False, "bogus"))
        lines = _run(tmp_path, 0, "auto")
        assert any(line.startswith("Device settings: device auto") for line in lines)
        assert any("GPU memory cap 'bogus' not understood" in line for line in lines)
        if not torch.cuda.is_available():
            assert any("Device: auto chose the CPU" in line for line in lines)
            lines = _run(tmp_path, 2, "cuda")  # DEVICE=cuda on this machine without a GPU
            warning = [line for line in lines if "CUDA was requested" in line]
            assert warning and warning[0].startswith("WARNING ")
            assert "running on the CPU instead" in warning[0]
    finally:
        save_device_settings(before)
