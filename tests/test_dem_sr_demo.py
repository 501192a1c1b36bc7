"""The demo's DEM part: the bundled x4 model beats bicubic on the held-out block, through
qgis_process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_dem_part_beats_bicubic_on_held_out_block(tmp_path) -> None:
    code = (
        "import sys; sys.path.insert(0, 'scripts'); sys.path.insert(0, '.venv/qgis-plugins');"
        "from demo import qgis_process; from demo_dem_sr import run_dem_sr_demo;"
        f"print(run_dem_sr_demo({str(tmp_path)!r}, qgis_process))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = proc.stdout.strip().splitlines()[-1]
    found = {
        name: (float(rmse), float(psnr))
        for name, rmse, psnr in re.findall(
            r"(model|bicubic|nearest) RMSE ([\d.]+) m, PSNR ([\d.]+) dB", line
        )
    }
    assert set(found) == {"model", "bicubic", "nearest"}, line
    assert found["model"][0] < found["bicubic"][0] < found["nearest"][0]
    assert found["model"][1] > found["bicubic"][1]
    residue = dict(re.findall(r"(model|bicubic|nearest) RMSE.*?phase residue ([\d.]+) rad", line))
    assert float(residue["model"]) < float(residue["bicubic"])
    for name in ("jacksboro_heldout_sr_x4.tif", "model_report.html", "model_phase_residue.tif"):
        assert (tmp_path / "dem_sr" / name).exists(), name
