"""Memory and time are bounded before the work, for every algorithm: each algorithm of the
provider (discovered from it, shipped models included) given rasters that declare 200000 x 200000
px refuses them in one clear sentence within 10 s, with a peak memory under 1 GiB, through the
real ``qgis_process``.

The rasters are VRTs without pixels of their own (a small GeoTIFF stretched over the extent), so
the test needs no disk space. They carry their statistics, as large rasters usually do: QGIS
computes a layer's display statistics the first time it loads it, before any algorithm runs, at
about 100 MB per band of such a raster, and the peak should measure the run, not that. Each run
is watched: one that passes 2 GiB or 60 s is stopped at once (and fails), so a runaway allocation
never takes the machine down.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dem_rasters import utm_dem
from displacement_rasters import two_lobes
from geohazard.engine.io.raster_io import inspect_raster, write_raster
from provider_algorithms import provider_outputs
from run_checks import ROOT, huge_vrt

SIZE = 200_000
LIMIT_S = 10.0
LIMIT_MIB = 1024.0
WATCH_MIB = 2048.0  # a run above this is stopped at once
WATCH_S = 60.0

ALGORITHMS = [pytest.param(a, id=a.split(":")[1]) for a, _o, _i in provider_outputs()]
# Layer inputs that hold more than one band: the rasters they get have that many.
BANDS = {"SAR": 2, "OPTICAL": 3, "TARGETS": 6}
# Optional layer inputs that the default settings use (the DEM of the default fusion).
USED_BY_DEFAULT = ("DEM",)
# Algorithms whose INPUT is a displacement raster (bands east, north, magnitude, ...).
DISPLACEMENT_INPUT = ("geohazard:landslideareas", "geohazard:displacementarrows")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[int | str, str]:
    folder = tmp_path_factory.mktemp("sources")
    dem = utm_dem(folder / "dem.tif", shape=(200, 200))
    other = utm_dem(folder / "dem2.tif", shape=(200, 200), seed=9)
    grid = inspect_raster(dem).grid
    out: dict[int | str, str] = {1: dem, "other": other, 6: two_lobes(folder / "disp.tif")}
    base = np.random.default_rng(0).gamma(4.0, 0.05, (3, 200, 200)).astype(np.float32)
    for bands in (2, 3):
        out[bands] = write_raster(
            str(folder / f"b{bands}.tif"), base[:bands], grid, [f"b{i}" for i in range(bands)]
        )
    return out


def _huge_inputs(alg_id: str, sources: dict, folder: Path) -> list[str]:
    """``KEY=VALUE`` arguments: a huge raster for every required layer input (every layer
    input when none is required, as for the training algorithms)."""
    layers = [(n, k, opt) for n, k, opt in _flags(alg_id) if k in ("raster", "multilayer")]
    if any(not opt for _n, _k, opt in layers):
        layers = [(n, k, opt) for n, k, opt in layers if not opt or n in USED_BY_DEFAULT]
    chosen = [(n, k) for n, k, _opt in layers]
    args = []
    single = 0  # one-band inputs alternate between two different sources (never copies)
    for name, kind in chosen:
        bands = BANDS.get(name, 6 if name == "INPUT" and alg_id in DISPLACEMENT_INPUT else 1)
        # a list of layers (a stack of images) gets three, the fewest a stack may hold
        for k in range(3 if kind == "multilayer" else 1):
            source = sources[bands] if bands != 1 else sources[1 if single % 2 == 0 else "other"]
            single += bands == 1
            # a stack's images carry their acquisition dates in their names
            stem = name.split(":")[0] + (f"_2024010{k + 1}" if kind == "multilayer" else "")
            vrt = _with_statistics(huge_vrt(folder / f"{stem}.vrt", source, SIZE, bands))
            args.append(f"{name}={vrt}")
    return args


def _with_statistics(vrt: str) -> str:
    """The VRT with each band's statistics (those of its small source, which it stretches)."""
    import rasterio

    with rasterio.open(vrt) as src:
        blocks = []
        for band in range(1, src.count + 1):
            a = src.read(band, out_shape=(200, 200)).astype(np.float64)
            a = a[np.isfinite(a)]
            stats = {
                "APPROXIMATE": "YES",
                "MAXIMUM": a.max(),
                "MEAN": a.mean(),
                "MINIMUM": a.min(),
                "STDDEV": a.std(),
                "VALID_PERCENT": 100,
            }
            items = "".join(f'<MDI key="STATISTICS_{k}">{v}</MDI>' for k, v in stats.items())
            blocks.append(f"<Metadata>{items}</Metadata>")
    text = Path(vrt).read_text()
    parts = text.split("<SimpleSource>")
    Path(vrt).write_text(
        parts[0] + "".join(b + "<SimpleSource>" + p for b, p in zip(blocks, parts[1:]))
    )
    return vrt


def _outputs(alg_id: str, folder: Path) -> list[str]:
    """``KEY=VALUE`` arguments: a file in ``folder`` for every required file output (for every
    file output when all are optional, as in the shipped workflow, which runs only the steps
    whose outputs are asked for)."""
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    optional = QgsProcessingParameterDefinition.Flag.FlagOptional
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    files = [
        (i, d)
        for i, d in enumerate(alg.destinationParameterDefinitions())
        if d.type() != "folderDestination"
    ]
    required = [(i, d) for i, d in files if not d.flags() & optional]
    return [
        f"{d.name()}={folder / f'output{i}.{d.defaultFileExtension()}'}"
        for i, d in (required or files)
    ]


def _flags(alg_id: str) -> list[tuple[str, str, bool]]:
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    optional = QgsProcessingParameterDefinition.Flag.FlagOptional
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    return [
        (d.name(), d.type(), bool(d.flags() & optional))
        for d in alg.parameterDefinitions()
        if not d.isDestination()
    ]


# Runs the command given as arguments and prints what it cost as JSON. A small process of its
# own: Linux keeps a process's peak memory across exec, so a child forked from the test process
# (QGIS and torch loaded) would start with the test's peak.
_WATCH = r"""
import json, os, signal, subprocess, sys, time
limit_kib, limit_s = float(sys.argv[1]), float(sys.argv[2])
proc = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
t0, stopped, peak = time.monotonic(), False, 0
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    try:
        with open(f"/proc/{proc.pid}/status") as fh:
            peak = max([peak] + [int(x.split()[1]) for x in fh if x.startswith("VmRSS:")])
    except OSError:
        pass
    if not stopped and (peak > limit_kib or time.monotonic() - t0 > limit_s):
        stopped = True
        os.kill(proc.pid, signal.SIGKILL)
    time.sleep(0.05)
print(json.dumps({
    "code": None if stopped else os.waitstatus_to_exitcode(status),
    "output": proc.stdout.read().decode(errors="replace"),
    "cpu": usage.ru_utime + usage.ru_stime,
    "peak_kib": max(peak, usage.ru_maxrss),
}))
"""


def _watched_run(args: list[str]) -> tuple[int | None, str, float, float]:
    """Run ``qgis_process run`` with ``args``; returns (exit code or None when stopped, output,
    seconds of processor time, peak memory in MiB of the process)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _WATCH,
            str(WATCH_MIB * 1024),
            str(WATCH_S),
            str(ROOT / "scripts" / "qgis_process"),
            "run",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=WATCH_S + 60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["code"], data["output"], data["cpu"], data["peak_kib"] / 1024


# Known to fail: the time series holds more than 2 GiB before its memory check refuses a stack
# of 200000 x 200000 px images (to find and fix; the closing note of its session says so).
KNOWN_FAILURES = {
    "geohazard:displacementtimeseries": "a stack of huge images passes 2 GiB before it is refused"
}


@pytest.mark.parametrize(
    "alg_id",
    [
        pytest.param(
            p.values[0],
            id=p.id,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[p.values[0]])]
            if p.values[0] in KNOWN_FAILURES
            else [],
        )
        for p in ALGORITHMS
    ],
)
def test_huge_raster_is_refused_at_once_in_bounded_memory(
    plugin, sources, tmp_path, alg_id
) -> None:
    args = _huge_inputs(alg_id, sources, tmp_path)
    assert args, f"{alg_id} has no raster input"
    out = tmp_path / "out"
    out.mkdir()
    code, output, seconds, peak = _watched_run([alg_id, "--", *args, *_outputs(alg_id, out)])
    tail = output[-3000:]
    assert code is not None, f"stopped after {WATCH_S:.0f} s or at {WATCH_MIB:.0f} MiB:\n{tail}"
    assert code != 0, f"the run did not refuse:\n{tail}"
    assert "Traceback" not in output, tail
    assert re.search(r"needs about .* of memory|Not enough free disk space", output), tail
    assert seconds < LIMIT_S, f"refusing took {seconds:.1f} s of processor time"
    assert peak < LIMIT_MIB, f"peak memory {peak:.0f} MiB"
    assert list(out.iterdir()) == []
