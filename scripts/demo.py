"""The main job: builds the sample data and runs the plugin's algorithms through qgis_process.

Run with scripts/demo.sh (which installs what is missing first). Writes everything to
demo_output/ (or the folder given as the first argument) and prints how far each result is from
the known truth; then runs the shipped graphical model (geohazard:landslideevent) on the sample
data and writes a QGIS project (.qgz) with its outputs styled and a map PNG with a legend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))

from geohazard.engine.offsets.evaluate import compare_with_truth  # noqa: E402
from geohazard.engine.simulate.landslide_scene import write_landslide_scene  # noqa: E402


def qgis_process(alg: str, **params: str) -> None:
    args = [os.path.join(HERE, "qgis_process"), "run", alg, "--"] + [
        f"{k}={v}" for k, v in params.items()
    ]
    print(
        "$ scripts/qgis_process run",
        alg,
        "--",
        " ".join(
            f"{k}={os.path.relpath(v) if os.path.isabs(str(v)) else v}" for k, v in params.items()
        ),
        flush=True,
    )
    t0 = time.time()
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit(f"{alg} failed (exit {proc.returncode})")
    print(f"  done in {time.time() - t0:.1f} s", flush=True)


def main() -> None:
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "demo_output"))
    os.makedirs(out, exist_ok=True)
    print(
        "[demo] sample data: real Jacksboro DEM (matplotlib sample data) -> SAR-like amplitude "
        f"pair with 4-look speckle and a known landslide motion, in {out}",
        flush=True,
    )
    paths = write_landslide_scene(os.path.join(out, "sample"))
    offsets = os.path.join(out, "offsets.tif")
    qgis_process(
        "geohazard:offsettracking",
        REFERENCE=paths["reference"],
        SECONDARY=paths["secondary"],
        WINDOW_SIZES="32,64,128",
        STEP="16",
        SEARCH="8",
        OUTPUT=offsets,
        PER_SIZE_OUTPUT=os.path.join(out, "offsets_per_window.tif"),
    )
    classical = compare_with_truth(offsets, paths["true_displacement"])
    print("[demo] " + classical.line(), flush=True)
    deep = os.path.join(out, "deep_offsets.tif")
    qgis_process(
        "geohazard:deepoffsettracking",
        REFERENCE=paths["reference"],
        SECONDARY=paths["secondary"],
        OUTPUT=deep,
    )
    dense = compare_with_truth(deep, paths["true_displacement"])
    print("[demo] " + dense.line("deep offset tracking (every pixel)"), flush=True)
    same = compare_with_truth(deep, paths["true_displacement"], grid_of=offsets)
    print(
        f"[demo] at the classical tracker's {same.points} window cells: deep RMSE "
        f"{same.rmse_m:.2f} m (landslide {same.moving_rmse_m:.2f} m) vs classical "
        f"{classical.rmse_m:.2f} m (landslide {classical.moving_rmse_m:.2f} m)",
        flush=True,
    )
    from demo_dem_sr import run_dem_sr_demo
    from demo_sar import run_sar_demo

    print("[demo] " + run_dem_sr_demo(out, qgis_process), flush=True)
    print("[demo] " + run_sar_demo(out, qgis_process, paths["dem"]), flush=True)
    from demo_workflow import run_workflow

    layers = run_workflow(out, qgis_process, paths)
    print("[demo] " + project_and_map(out, layers), flush=True)
    print(f"[demo] outputs in {out}")


def project_and_map(out: str, layers: list[tuple[str, str, str]]) -> str:
    """The QGIS project with every output of the shipped model styled, and a map PNG with a
    legend from QGIS's layout export."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from demo_map import write_project_and_map
    from demo_workflow import summary
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    line = summary(layers)
    qgz, png = write_project_and_map(
        out, layers, "Geohazard: landslide event workflow on the Jacksboro DEM"
    )
    return f"{line}\n[demo] QGIS project {os.path.relpath(qgz)} and map {os.path.relpath(png)}"


if __name__ == "__main__":
    main()
