"""Offset tracking speed and accuracy against scikit-image and OpenPIV, on the same windows of
the same pair, in one run.

Pair: N x N (default 1024; ``--size 4096`` for the issue 8 comparison) SAR-like amplitude
images, 4-look speckle, 90% speckle coherence, a smooth random displacement field of up to 2 px
(seeded). Windows: 64 px on a 16 px grid, search +/-8 px.
Compared, each over exactly the same window centres:
  - Geohazard's tracker (engine track_offsets, end to end: reads the GeoTIFFs, correlates in
    batches with torch FFTs, writes the output), one window size, no outlier filter;
  - skimage.registration.phase_cross_correlation(upsample_factor=10) on each 64 px window pair;
  - skimage.feature.match_template of each 64 px template over its 80 px search area, with the
    usual 3-point parabolic sub-pixel refinement of its peak (``--skip-match-template`` to
    leave it out: it takes minutes at 4096 px);
  - OpenPIV (``openpiv.pyprocess.extended_search_area_piv``, its vectorised FFT PIV: 64 px
    windows of both images, 48 px overlap, i.e. a 16 px step, Gaussian peak fit, no
    signal-to-noise measure). OpenPIV refuses an overlap as large as the window, so it cannot
    search 80 px areas on a 16 px grid; it correlates the 64 px windows, as the
    phase_cross_correlation loop does. The images are cropped by 8 px so that its window
    centres are ours. Installed from benchmarks/requirements.txt when missing (0.25.0: the
    last OpenPIV that runs on the numpy 1.24 this project keeps for QGIS's GDAL).
Accuracy: RMSE (px) against the true field averaged over each window. Times are medians of
repeats in one run; ratios are what to compare across machines.
Usage: .venv/bin/python benchmarks/bench_offset_tracking.py [--size 1024] [--repeats 3]
       [--skip-match-template]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import rasterio  # noqa: E402
from geohazard.engine.offsets.tracking import OffsetTrackingConfig, track_offsets  # noqa: E402
from geohazard.engine.simulate import displacement  # noqa: E402
from sar_pairs import write_pair  # noqa: E402
from scipy import ndimage  # noqa: E402
from skimage.feature import match_template  # noqa: E402
from skimage.registration import phase_cross_correlation  # noqa: E402

W, STEP, SEARCH = 64, 16, 8


def import_openpiv():
    """openpiv.pyprocess, installed from benchmarks/requirements.txt on first use."""
    try:
        from openpiv import pyprocess
    except ImportError:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                os.path.join(ROOT, "benchmarks", "requirements.txt"),
                "-c",
                os.path.join(ROOT, "constraints.txt"),
            ],
            check=True,
        )
        from openpiv import pyprocess
    return pyprocess


def run_openpiv(pyprocess, ref: np.ndarray, sec: np.ndarray, n_pts: int) -> np.ndarray:
    """OpenPIV's FFT PIV with 64 px windows every 16 px, centres aligned with ours."""
    crop = SEARCH  # our first centre is W/2 + SEARCH, OpenPIV's is W/2
    u, v = pyprocess.extended_search_area_piv(
        ref[crop:, crop:].astype(np.float64),
        sec[crop:, crop:].astype(np.float64),
        window_size=W,
        overlap=W - STEP,
        search_area_size=W,
        sig2noise_method=None,
    )[:2]
    side = int(round(np.sqrt(n_pts)))
    return np.stack([v[:side, :side].ravel(), u[:side, :side].ravel()], axis=1)


CPU: dict[str, list[float]] = {}  # CPU seconds of this process (all threads) per method


def median_time(fn, repeats: int, name: str = "") -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        CPU.setdefault(name, []).append(time.process_time() - c0)
    return float(np.median(times)), out


def centres(n: int) -> list[tuple[int, int]]:
    first = W // 2 + SEARCH
    idx = range(first, n - first + 1, STEP)
    return [(r, c) for r in idx for c in idx]


def run_skimage_pcc(ref: np.ndarray, sec: np.ndarray, pts) -> np.ndarray:
    h = W // 2
    out = []
    for r, c in pts:
        shift, _, _ = phase_cross_correlation(
            ref[r - h : r + h, c - h : c + h],
            sec[r - h : r + h, c - h : c + h],
            upsample_factor=10,
            normalization=None,
        )
        out.append(-shift)  # shift registers moving onto reference: the motion is its negative
    return np.array(out)


def _parabolic(cm: float, c0: float, cp: float) -> float:
    den = cm - 2 * c0 + cp
    return 0.0 if den == 0 else float(np.clip((cm - cp) / (2 * den), -1, 1))


def run_skimage_match_template(ref: np.ndarray, sec: np.ndarray, pts) -> np.ndarray:
    h = W // 2
    out = []
    for r, c in pts:
        res = match_template(
            sec[r - h - SEARCH : r + h + SEARCH, c - h - SEARCH : c + h + SEARCH],
            ref[r - h : r + h, c - h : c + h],
        )
        iy, ix = np.unravel_index(np.argmax(res), res.shape)
        fy = (
            _parabolic(res[iy - 1, ix], res[iy, ix], res[iy + 1, ix])
            if 0 < iy < res.shape[0] - 1
            else 0.0
        )
        fx = (
            _parabolic(res[iy, ix - 1], res[iy, ix], res[iy, ix + 1])
            if 0 < ix < res.shape[1] - 1
            else 0.0
        )
        out.append((iy - SEARCH + fy, ix - SEARCH + fx))
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--search", type=int, default=8, help="search distance, px each way")
    ap.add_argument("--skip-match-template", action="store_true")
    args = ap.parse_args()
    global SEARCH
    SEARCH = args.search
    n = args.size
    dy, dx = displacement.smooth_random_field((n, n), 2.0, 300.0, seed=2)
    tmp = tempfile.mkdtemp(prefix="bench_ot_")
    a, b = write_pair(__import__("pathlib").Path(tmp), dy, dx, seed=5)
    with rasterio.open(a) as s1, rasterio.open(b) as s2:
        ref, sec = s1.read(1), s2.read(1)
    pts = centres(n)
    ty = ndimage.uniform_filter(dy, W)
    tx = ndimage.uniform_filter(dx, W)
    truth = np.array([(ty[r, c], tx[r, c]) for r, c in pts])
    # the field at the window centres: what the tracker's window deformation estimates (the
    # window mean above is what plain block matching estimates; both are reported)
    at_centre = np.array([(dy[r, c], dx[r, c]) for r, c in pts])

    out = os.path.join(tmp, "off.tif")
    out0 = os.path.join(tmp, "off_first_pass.tif")
    cfg = OffsetTrackingConfig(
        window_sizes=(W,),
        step=STEP,
        search=SEARCH,
        outlier_filter="none",
        min_quality=-1.0,
        device="cpu",
    )
    cfg0 = dataclasses.replace(cfg, deform_passes=0)  # the first correlation alone
    pyprocess = import_openpiv()
    # interleaved, so that every method sees the same neighbours on a shared machine
    times: dict[str, list[float]] = {"ours": [], "ours0": [], "piv": [], "pcc": []}
    piv = pcc = None
    for rep in range(args.repeats):
        t, _ = median_time(lambda: track_offsets(a, b, out, cfg), 1, "ours")
        times["ours"].append(t)
        t, _ = median_time(lambda: track_offsets(a, b, out0, cfg0), 1, "ours0")
        times["ours0"].append(t)
        t, piv = median_time(lambda: run_openpiv(pyprocess, ref, sec, len(pts)), 1, "piv")
        times["piv"].append(t)
        if rep < max(1, args.repeats - 1):
            t, pcc = median_time(lambda: run_skimage_pcc(ref, sec, pts), 1, "pcc")
            times["pcc"].append(t)
    t_ours, t_ours0, t_piv, t_pcc = (
        float(np.median(times[k])) for k in ("ours", "ours0", "piv", "pcc")
    )

    def read_offsets(path: str) -> np.ndarray:
        with rasterio.open(path) as src:
            east, north = src.read(1), src.read(2)
        found = np.stack([-north.ravel() / 10.0, east.ravel() / 10.0], axis=1)
        assert found.shape[0] == len(pts)
        return found

    ours, ours0 = read_offsets(out), read_offsets(out0)
    if not args.skip_match_template:
        t_mt, mt = median_time(lambda: run_skimage_match_template(ref, sec, pts), 1)

    def rmse(est: np.ndarray) -> str:
        out = []
        for ref in (truth, at_centre):
            e = np.hypot(est[:, 0] - ref[:, 0], est[:, 1] - ref[:, 1])
            out.append(f"{float(np.sqrt(np.nanmean(e**2))):.3f}")
        return " | ".join(out)

    rows = [
        ("Geohazard tracker, defaults (one window-deformation pass)", t_ours, rmse(ours)),
        ("Geohazard tracker, DEFORMATION_PASSES=0 (first correlation)", t_ours0, rmse(ours0)),
        ("skimage phase_cross_correlation(upsample_factor=10), looped", t_pcc, rmse(pcc)),
        ("OpenPIV extended_search_area_piv (vectorised FFT PIV)", t_piv, rmse(piv)),
    ]
    if not args.skip_match_template:
        rows.append(("skimage match_template + parabolic peak, looped", t_mt, rmse(mt)))
    print(
        f"pair {n}x{n}, {len(pts)} windows of {W} px, step {STEP}, search +/-{SEARCH} px, "
        f"torch {torch.__version__} threads {torch.get_num_threads()}, cpu count {os.cpu_count()}"
    )
    print(
        f"load average {os.getloadavg()}; runs (s): "
        + str({k: [round(x, 2) for x in v] for k, v in times.items()})
        + "; CPU seconds (all threads): "
        + str({k: [round(x, 2) for x in v] for k, v in CPU.items()})
    )
    print(
        "| method | time (s) | time / Geohazard | RMSE (px) vs window-mean field | "
        "RMSE (px) vs field at the centre |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, t, e in rows:
        print(f"| {name} | {t:.2f} | {t / t_ours:.1f}x | {e} |")


if __name__ == "__main__":
    main()
