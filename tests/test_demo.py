"""The README's main job runs end to end: its offsets match the known landslide field, and the
shipped graphical model (geohazard:landslideevent) runs through qgis_process on the sample data
and finds the landslide, with the project and the map written from its outputs (slow: about
5 minutes on 2 cores)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_and_recovers_the_landslide(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if "offset tracking vs known field" in ln)
    rmse_px = float(re.search(r"\(([\d.]+) px\)", line).group(1))
    peak_measured, peak_true = map(
        float, re.search(r"peak motion ([\d.]+) m measured vs ([\d.]+) m true", line).groups()
    )
    moving_m = float(re.search(r"on the landslide ([\d.]+) m", line).group(1))
    assert rmse_px < 0.05
    assert moving_m < 7.5  # a quarter of a 30 m pixel where the ground moves
    assert abs(peak_measured - peak_true) < 0.1 * peak_true
    deep = next(ln for ln in proc.stdout.splitlines() if "deep offset tracking" in ln)
    assert float(re.search(r"\(([\d.]+) px\)", deep).group(1)) < 0.2
    assert any("at the classical tracker's" in ln for ln in proc.stdout.splitlines())
    sar = next(ln for ln in proc.stdout.splitlines() if "SAR distortion classes" in ln)
    assert "SIMULATED Sentinel-1" in sar
    assert float(re.search(r"([\d.]+)% of pixels agree", sar).group(1)) > 95.0
    for name in (
        "sar_distortion.tif",
        "optical_like.tif",
        "deep_offsets.tif",
        "offsets.tif",
        "offsets_per_window.tif",
        "sample/reference.tif",
        "sample/true_displacement.tif",
        "workflow/landslide_areas.gpkg",
        "workflow/displacement_arrows.gpkg",
        "workflow/displacement.tif",
        "workflow/dem_x4.tif",
        "workflow/sar_distortion.tif",
        "workflow/optical_like.tif",
        "geohazard_demo.qgz",
        "geohazard_map.png",
    ):
        assert (tmp_path / name).exists(), name
    workflow = next(ln for ln in proc.stdout.splitlines() if "landslide event workflow" in ln)
    assert "shipped model" in workflow and "1 landslide area(s)" in workflow
    azimuth = float(re.search(r"towards (\d+) deg", workflow).group(1))
    peak = float(re.search(r"peak displacement ([\d.]+) m", workflow).group(1))
    assert abs(peak - peak_true) < 0.1 * peak_true
    with rasterio.open(tmp_path / "sample" / "true_displacement.tif") as ds:
        east, north, magnitude = ds.read()
    moving = magnitude > 0.5
    true_azimuth = np.degrees(np.arctan2(east[moving].mean(), north[moving].mean())) % 360
    assert abs((azimuth - true_azimuth + 180) % 360 - 180) < 15
