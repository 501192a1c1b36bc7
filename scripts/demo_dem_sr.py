"""Demo part for DEM super-resolution (called by scripts/demo.py).

On the Jacksboro block held out from training: the HR truth is averaged to a x4 coarser DEM,
which geohazard:demsuperresolution sharpens back; geohazard:evaluatedem compares the result and
the bicubic and nearest upsamplings with the truth; geohazard:topographicphase shows the InSAR
phase residue each leaves (Sentinel-1 geometry, 150 m baseline).
"""

from __future__ import annotations

import os
from typing import Callable


def run_dem_sr_demo(out: str, qgis_process: Callable[..., object], scale: int = 4) -> str:
    """Run the three DEM algorithms through qgis_process; returns the metrics line."""
    import json
    import subprocess

    from geohazard.engine.families.dem_sr.held_out import write_held_out_pair

    paths = write_held_out_pair(os.path.join(out, "dem_sr"), scale)
    sr = os.path.join(out, "dem_sr", f"jacksboro_heldout_sr_x{scale}.tif")
    qgis_process("geohazard:demsuperresolution", INPUT=paths["lr"], SCALE=str(scale), OUTPUT=sr)
    here = os.path.dirname(os.path.abspath(__file__))

    def results(alg: str, **params: str) -> dict:
        print("$ scripts/qgis_process --json run", alg, "-- ...", flush=True)
        proc = subprocess.run(
            [os.path.join(here, "qgis_process"), "--json", "run", alg, "--"]
            + [f"{k}={v}" for k, v in params.items()],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(proc.stdout[proc.stdout.index("{") :])["results"]

    parts = []
    for name, path in (("model", sr), ("bicubic", paths["bicubic"]), ("nearest", paths["nearest"])):
        stem = os.path.join(out, "dem_sr", f"{name}")
        s = results(
            "geohazard:evaluatedem",
            INPUT=path,
            REFERENCE=paths["hr"],
            OUTPUT=f"{stem}_minus_truth.tif",
            REPORT=f"{stem}_report.html",
        )
        p = results(
            "geohazard:topographicphase",
            INPUT=paths["hr"],
            COMPARE_DEM=path,
            OUTPUT=f"{stem}_phase_residue.tif",
        )
        parts.append(
            f"{name} RMSE {s['RMSE']:.2f} m, PSNR {s['PSNR']:.2f} dB, SSIM {s['SSIM']:.3f}, "
            f"slope RMSE {s['SLOPE_RMSE']:.2f} deg, phase residue {p['RESIDUAL_RMS']:.3f} rad"
        )
    return (
        f"DEM super-resolution x{scale} on the held-out Jacksboro block (never trained on): "
        + "; ".join(parts)
    )
