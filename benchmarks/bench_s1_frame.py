"""A Sentinel-1 GRD frame through qgis_process: the tracker before and after, alternating.

Pair: ROWS x COLS (default 25000 x 16000, one GRD frame at 10 m) of seeded SAR-like amplitude:
a smooth land-cover texture, 2-look speckle with a 0.8 px impulse response, 90% speckle
coherence, and a known smooth displacement field (sums of sinusoids, wavelengths 1600-4000 px
across, 2048 px or none down, up to 2 px). A 2048-row tile is generated (in two processes) with
rows wrapping around, and the frame repeats it downwards without a seam, since the field has
the same period: simulating 400 M pixels of speckle would take this shared CPU most of an hour,
and the tracker's work does not depend on the texture repeating. Cached in ``--data-dir`` (on
disk, 2 x 1.6 GB; reused when it is there). The secondary is the reference's ground sampled
at ``p - d(p)`` with cubic splines (the field is so smooth that this equals the exact inverse
to 0.01 px).

Both versions run ``scripts/qgis_process run geohazard:offsettracking`` with 64 px windows, a
step of 16 px and a search of 8 px (the other parameters at their defaults) under
``/usr/bin/time -v``: the old code is extracted with ``git archive OLD_COMMIT`` into a temporary
folder, with its own plugin folder and QGIS profile and the same virtual environment. Old and
new alternate, so both see the same neighbours on this shared machine; the load average is
recorded before each run. Reported per run: wall seconds, peak RSS, user and system CPU
seconds, page faults; then the medians, the ratio new / old, the largest difference between the
two outputs, and each output's RMSE against the known field (px).

Usage: .venv/bin/python benchmarks/bench_s1_frame.py [--repeats 1] [--rows 25000 --cols 16000]
       [--old-commit b91761a] [--data-dir /var/tmp/geohazard_s1_frame] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_COMMIT = "b91761a"  # main before the speed work of issue 8 (item 7)
TILE = 2048  # rows of the generated tile; the frame repeats it downwards, seamlessly
BLOCK = 4000  # columns generated per process
MARGIN = 32
W, STEP, SEARCH, PIXEL = 64, 16, 8, 10.0


def field_params(seed: int = 11) -> list[list[tuple[float, float, float, float]]]:
    """(kx, ky, phase, amplitude) of four sinusoids for each of dy and dx; periodic in rows
    with period TILE (row wavenumbers 0 or +/-1 per tile), so the tiled frame is seamless."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(2):
        waves = []
        for _ in range(4):
            kx = 2 * np.pi / rng.uniform(1600.0, 4000.0) * rng.choice([-1, 1])
            ky = 2 * np.pi * int(rng.integers(-1, 2)) / TILE
            waves.append((kx, ky, rng.uniform(0, 2 * np.pi), 0.5))
        out.append(waves)
    return out


def field(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The known displacement (dy, dx) in pixels at image coordinates (at most 2 px)."""
    comps = []
    for waves in field_params():
        f = np.zeros(np.broadcast(rows, cols).shape, np.float64)
        for kx, ky, ph, amp in waves:
            f += amp * np.sin(kx * cols + ky * rows + ph)
        comps.append(f.astype(np.float32))
    return comps[0], comps[1]


def make_block(args: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Reference and secondary of tile columns [c0, c0 + BLOCK) (rows wrap around the tile)."""
    from scipy import ndimage

    c0, cols = args
    n = min(BLOCK, cols - c0)
    left, right = max(0, c0 - MARGIN), min(cols, c0 + n + MARGIN)
    shape = (TILE, right - left)
    rng = np.random.default_rng(1000 + c0)

    def gauss(sigma: float) -> np.ndarray:
        noise = rng.standard_normal(shape, dtype=np.float32)
        return ndimage.gaussian_filter(noise, sigma, mode=("wrap", "reflect"))

    refl = np.exp(0.3 * gauss(3.0)).astype(np.float32)

    def speckle() -> np.ndarray:
        re_, im_ = gauss(0.8), gauss(0.8)
        inten = re_ * re_ + im_ * im_
        return inten / inten.mean()

    rr, cc = np.mgrid[0:TILE, left:right].astype(np.float32)
    dy, dx = field(rr, cc)
    coords = [rr - dy, cc - dx - left]
    # rows wrap (the field and the tile repeat every TILE rows); columns have margins
    coords[0] = np.mod(coords[0], TILE) + 8

    def sample(img: np.ndarray) -> np.ndarray:
        ext = np.concatenate([img[-8:], img, img[:8]], axis=0)  # cubic splines see the wrap
        return ndimage.map_coordinates(ext, coords, order=3, mode="nearest")

    moved_refl = sample(refl)
    ref = np.zeros(shape, np.float32)
    sec = np.zeros(shape, np.float32)
    looks = 2
    for _ in range(looks):
        ground = refl * speckle()
        ref += ground
        sec += 0.9 * sample(ground) + 0.1 * moved_refl * speckle()
    keep = slice(c0 - left, c0 - left + n)
    ref = np.sqrt(np.clip(ref / looks, 0, None))[:, keep]
    sec = np.sqrt(np.clip(sec / looks, 0, None))[:, keep]
    return c0, ref.astype(np.float32), sec.astype(np.float32)


def build_pair(folder: str, rows: int, cols: int) -> tuple[str, str]:
    """Write (or reuse) the reference and secondary GeoTIFFs of the frame."""
    import rasterio
    from affine import Affine
    from rasterio.crs import CRS

    a, b = os.path.join(folder, "reference.tif"), os.path.join(folder, "secondary.tif")
    stamp = os.path.join(folder, "done.json")
    want = {"rows": rows, "cols": cols, "version": 2}
    if os.path.exists(stamp) and json.load(open(stamp)) == want:
        return a, b
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()
    tile_ref = np.empty((TILE, cols), np.float32)
    tile_sec = np.empty((TILE, cols), np.float32)
    with Pool(2) as pool:
        for c0, ref, sec in pool.imap(make_block, [(c, cols) for c in range(0, cols, BLOCK)]):
            tile_ref[:, c0 : c0 + ref.shape[1]] = ref
            tile_sec[:, c0 : c0 + sec.shape[1]] = sec
    print(f"tile made in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": 1,
        "dtype": "float32",
        "crs": CRS.from_epsg(32633),
        "transform": Affine(PIXEL, 0, 500000.0, 0, -PIXEL, 4500000.0),
        "nodata": float("nan"),
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "BIGTIFF": "YES",
        "NUM_THREADS": 2,
    }
    with rasterio.open(a, "w", **profile) as da, rasterio.open(b, "w", **profile) as db:
        for r0 in range(0, rows, TILE):
            n = min(TILE, rows - r0)
            win = rasterio.windows.Window(0, r0, cols, n)
            da.write(tile_ref[:n], 1, window=win)
            db.write(tile_sec[:n], 1, window=win)
    json.dump(want, open(stamp, "w"))
    print(f"pair written in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return a, b


def old_tree(commit: str, tmp: str) -> str:
    """The plugin at ``commit`` in a folder of its own, sharing this checkout's venv."""
    root = os.path.join(tmp, "old", "geohazard")
    os.makedirs(root)
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "x", "-C", root], input=archive.stdout, check=True)
    os.makedirs(os.path.join(root, "scripts"), exist_ok=True)
    for name in ("scripts/qgis_process", "scripts/env.sh"):  # export-ignore'd by git archive
        text = subprocess.run(
            ["git", "-C", ROOT, "show", f"{commit}:{name}"], capture_output=True, check=True
        ).stdout
        with open(os.path.join(root, name), "wb") as f:
            f.write(text)
        os.chmod(os.path.join(root, name), 0o755)
    venv = os.path.join(root, ".venv")
    os.makedirs(venv)
    for name in ("bin", "lib", "lib64", "include"):
        src = os.path.join(ROOT, ".venv", name)
        if os.path.exists(src):
            os.symlink(src, os.path.join(venv, name))
    shutil.copy(os.path.join(ROOT, ".venv", "pyvenv.cfg"), venv)
    return root


def run_once(root: str, a: str, b: str, out: str) -> dict:
    """One offset-tracking run through ``root``'s scripts/qgis_process, timed."""
    if os.path.exists(out):
        os.remove(out)
    cmd = [
        "/usr/bin/time",
        "-v",
        os.path.join(root, "scripts", "qgis_process"),
        "run",
        "geohazard:offsettracking",
        "--",
        f"REFERENCE={a}",
        f"SECONDARY={b}",
        f"WINDOW_SIZES={W}",
        f"STEP={STEP}",
        f"SEARCH={SEARCH}",
        f"OUTPUT={out}",
    ]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"qgis_process failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")

    def field_of(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([0-9.:]+)", proc.stderr)
        return float(m.group(1)) if m else float("nan")

    return {
        "wall_s": round(wall, 1),
        "peak_rss_gib": round(field_of("Maximum resident set size (kbytes)") / 1024**2, 3),
        "user_s": field_of("User time (seconds)"),
        "system_s": field_of("System time (seconds)"),
        "minor_faults": int(field_of("Minor (reclaiming a frame) page faults")),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def compare(old: str, new: str) -> dict:
    """Largest difference between the two outputs and each one's RMSE against the field."""
    import rasterio

    res = {}
    with rasterio.open(old) as so, rasterio.open(new) as sn:
        o, n = so.read([1, 2]), sn.read([1, 2])
    both = np.isfinite(o).all(0) & np.isfinite(n).all(0)
    res["valid_old"] = float(np.isfinite(o[0]).mean())
    res["valid_new"] = float(np.isfinite(n[0]).mean())
    res["same_valid_points"] = bool((np.isfinite(o[0]) == np.isfinite(n[0])).all())
    res["max_abs_diff_px"] = float(np.abs(o[:, both] - n[:, both]).max() / PIXEL)
    first = W // 2 + SEARCH
    rows = first + STEP * np.arange(o.shape[1])[:, None]
    cols = first + STEP * np.arange(o.shape[2])[None, :]
    ty, tx = field(rows.astype(np.float64), cols.astype(np.float64))
    for name, arr in (("old", o), ("new", n)):
        dy, dx = -arr[1] / PIXEL, arr[0] / PIXEL
        err = np.hypot(dy - ty, dx - tx)
        res[f"rmse_{name}_px"] = float(np.sqrt(np.nanmean(err[both] ** 2)))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=25000)
    ap.add_argument("--cols", type=int, default=16000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--old-commit", default=OLD_COMMIT)
    ap.add_argument("--data-dir", default="/var/tmp/geohazard_s1_frame")
    ap.add_argument("--only-new", action="store_true", help="skip the old code")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    data = os.path.join(args.data_dir, f"{args.rows}x{args.cols}")
    a, b = build_pair(data, args.rows, args.cols)
    tmp = tempfile.mkdtemp(prefix="bench_s1_", dir=args.data_dir)
    roots = {"new": ROOT}
    if not args.only_new:
        roots["old"] = old_tree(args.old_commit, tmp)
    runs: dict[str, list[dict]] = {k: [] for k in roots}
    for rep in range(args.repeats):
        for which in sorted(roots, reverse=True) if rep % 2 else sorted(roots):
            r = run_once(roots[which], a, b, os.path.join(tmp, f"{which}.tif"))
            runs[which].append(r)
            print(json.dumps({"run": which, **r}), flush=True)
    summary: dict = {
        "pair": f"{args.rows} x {args.cols}",
        "windows": W,
        "step": STEP,
        "search": SEARCH,
        "cpu_count": os.cpu_count(),
        "old_commit": args.old_commit,
        "runs": runs,
    }
    for which, rs in runs.items():
        summary[f"median_wall_{which}_s"] = statistics.median(r["wall_s"] for r in rs)
        summary[f"max_peak_rss_{which}_gib"] = max(r["peak_rss_gib"] for r in rs)
    if "old" in runs:
        summary["new_over_old"] = round(
            summary["median_wall_new_s"] / summary["median_wall_old_s"], 3
        )
        summary.update(compare(os.path.join(tmp, "old.tif"), os.path.join(tmp, "new.tif")))
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
