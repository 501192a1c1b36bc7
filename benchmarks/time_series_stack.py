"""A stack through geohazard:displacementtimeseries against its pairs run one by one through
geohazard:offsettracking, and the same stack on a dask.distributed LocalCluster of two workers.

Stack: DATES images of SIZE x SIZE px (10 m, EPSG:32633), seeded: a smooth SAR-like texture with
4-look speckle that decorrelates from date to date (coherence 0.95 between consecutive dates),
the whole ground moved by a smooth field that grows linearly with time (up to 2 px at the last
date; Fourier shifts of the texture, fast at 4096 px where the speckle simulator is not). The
tracker's work does not depend on the texture, only on the sizes.

Three timings (wall and CPU seconds: on a shared machine the CPU seconds are the steadier
measure of work), in one run, each end to end through ``scripts/qgis_process`` (QGIS start,
reading, tracking, writing), all with the algorithms' default tracking parameters (windows
32,64,128, step 16, search 16, one window-deformation pass):

1. ``geohazard:displacementtimeseries`` with PAIRS_PER_IMAGE=K, on this machine;
2. ``geohazard:offsettracking`` run once per pair of the same network (what a user does today);
3. ``geohazard:displacementtimeseries`` with SCHEDULER set to a LocalCluster of two worker
   processes (one thread each) started by this script.

Usage: .venv/bin/python benchmarks/time_series_stack.py [--size 4096] [--dates 12] [--k 3]
       [--work /var/tmp/geohazard_ts_bench] [--json out.json] [--phases stack,singles,cluster]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".venv", "qgis-plugins"))
QP = os.path.join(ROOT, "scripts", "qgis_process")


def make_stack(folder: str, size: int, dates: int, seed: int = 3) -> list[str]:
    import rasterio
    from affine import Affine
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.gamma(2.0, 1.0, (size, size)), 2.0) + 0.2
    ky = np.fft.fftfreq(size)[:, None]
    kx = np.fft.rfftfreq(size)[None, :]
    spec = np.fft.rfft2(base)
    speckle = [
        rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size)) for _ in range(4)
    ]
    paths = []
    for k in range(dates):
        shift = 2.0 * k / max(dates - 1, 1)
        moved = np.fft.irfft2(
            spec * np.exp(-2j * np.pi * (ky * shift * 0.5 + kx * shift)), s=(size, size)
        )
        if k:
            speckle = [
                0.95 * g
                + np.sqrt(1 - 0.95**2)
                * (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size)))
                for g in speckle
            ]
        look = sum(np.abs(g) ** 2 for g in speckle) / (2 * len(speckle))
        day = dt.date(2024, 1, 6) + dt.timedelta(days=12 * k)
        path = os.path.join(folder, f"S1_bench_{day.strftime('%Y%m%d')}.tif")
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=size,
            height=size,
            count=1,
            dtype="float32",
            crs="EPSG:32633",
            transform=Affine(10.0, 0, 500000, 0, -10.0, 5000000),
            tiled=True,
            blockxsize=256,
            blockysize=256,
        ) as dst:
            dst.write(np.sqrt(np.clip(moved, 1e-3, None) * look).astype(np.float32), 1)
        paths.append(path)
    return paths


def cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children (qgis_process, and the
    LocalCluster's worker processes once the cluster is closed)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one qgis_process run."""
    start, cpu = time.monotonic(), cpu_seconds()
    proc = subprocess.run([QP, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout + proc.stderr)
    return time.monotonic() - start, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--work", default="/var/tmp/geohazard_ts_bench")
    parser.add_argument("--json", default="")
    parser.add_argument(
        "--phases", default="stack,singles,cluster", help="which timings to run, comma-separated"
    )
    args = parser.parse_args()
    from geohazard.engine.timeseries.dates import stack_dates
    from geohazard.engine.timeseries.network import pair_network

    images = os.path.join(args.work, f"images_{args.size}_{args.dates}")
    os.makedirs(images, exist_ok=True)
    paths = sorted(os.path.join(images, p) for p in os.listdir(images) if p.endswith(".tif"))
    if len(paths) != args.dates:
        paths = make_stack(images, args.size, args.dates)
    pairs = pair_network(stack_dates(paths), args.k)
    out = os.path.join(args.work, "out")
    os.makedirs(out, exist_ok=True)
    record: dict[str, object] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
        "machine": f"{platform.node()} {os.cpu_count()} cores {platform.processor()}",
        "size": args.size,
        "dates": args.dates,
        "k": args.k,
        "pairs": len(pairs),
        "load_before": os.getloadavg(),
    }
    common = ["--", f"INPUT={images}", f"PAIRS_PER_IMAGE={args.k}"]
    stack = ["run", "geohazard:displacementtimeseries", *common]
    if "stack" in args.phases:
        record["stack_s"], record["stack_cpu_s"] = timed(
            [*stack, f"OUTPUT={out}/series.tif", f"VELOCITY_OUTPUT={out}/vel.tif"]
        )
        record["load_after_stack"] = os.getloadavg()
    if "singles" in args.phases:
        singles = []
        for i, j in pairs:
            ref, sec = f"REFERENCE={paths[i]}", f"SECONDARY={paths[j]}"
            run = ["run", "geohazard:offsettracking", "--", ref, sec]
            singles.append(timed([*run, f"OUTPUT={out}/pair_{i}_{j}.tif"]))
            print(f"pair {i}-{j}: {singles[-1][0]:.1f} s, {singles[-1][1]:.1f} CPU s", flush=True)
        record["singles_s"] = [w for w, _c in singles]
        record["singles_total_s"] = sum(w for w, _c in singles)
        record["singles_total_cpu_s"] = sum(c for _w, c in singles)
        record["load_after_singles"] = os.getloadavg()
    if "cluster" in args.phases:
        from distributed import LocalCluster

        cpu = cpu_seconds()
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            scheduler = f"SCHEDULER={cluster.scheduler_address}"
            record["cluster_s"], _ = timed([*stack, scheduler, f"OUTPUT={out}/series_dask.tif"])
        record["cluster_cpu_s"] = cpu_seconds() - cpu  # the client's and both workers' CPU
        record["load_after_cluster"] = os.getloadavg()
    if "singles_total_s" in record:
        for key in ("stack", "cluster"):
            if f"{key}_s" in record:
                record[f"ratio_{key}_to_singles"] = record[f"{key}_s"] / record["singles_total_s"]
                record[f"cpu_ratio_{key}_to_singles"] = (
                    record[f"{key}_cpu_s"] / record["singles_total_cpu_s"]
                )
    text = json.dumps(record, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
