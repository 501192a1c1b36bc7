"""Shared helpers of the issue-14 tests: feedback that records, cancels or fills the disk, a small
tmpfs standing in for a full disk, folder snapshots and a huge raster without pixels."""

from __future__ import annotations

import hashlib
import html
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from qgis.core import QgsProcessingFeedback

ROOT = Path(__file__).resolve().parents[1]
ALGORITHMS = (
    "geohazard:offsettracking",
    "geohazard:demsuperresolution",
    "geohazard:evaluatedem",
    "geohazard:topographicphase",
)


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps every message and progress value in order; can cancel or run a hook on progress.

    Args:
        cancel_at: cancel once progress reaches this percentage.
        on_progress: called once, the first time progress passes ``hook_at`` percent.
        cancel_on: cancel when a message containing this text is logged. (QGIS emits progress
            only every 0.1%, so on a huge run this is the way to cancel at a known moment.)
    """

    def __init__(
        self,
        cancel_at: float | None = None,
        on_progress: Callable[[], None] | None = None,
        hook_at: float = 0.0,
        cancel_on: str | None = None,
    ) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []
        self.cancel_on = cancel_on
        self.cancel_at = cancel_at
        self.hook = on_progress
        self.hook_at = hook_at
        self.progressChanged.connect(self._progress)

    def _progress(self, value: float) -> None:
        self.events.append(("progress", value))
        if self.hook is not None and value > self.hook_at:
            hook, self.hook = self.hook, None
            hook()
        if self.cancel_at is not None and value >= self.cancel_at:
            self.cancel()

    @property
    def messages(self) -> list[str]:
        return [str(v) for k, v in self.events if k != "progress"]

    @property
    def max_progress(self) -> float:
        return max([float(v) for k, v in self.events if k == "progress"], default=0.0)

    def text(self) -> str:
        return "\n".join(self.messages)

    def index(self, fragment: str) -> int:
        """Position of the first message containing ``fragment`` among all events (-1: none)."""
        for i, (kind, value) in enumerate(self.events):
            if kind != "progress" and fragment in str(value):
                return i
        return -1

    def first_progress(self) -> int:
        """Position of the first progress above zero among all events (len(events): none)."""
        for i, (kind, value) in enumerate(self.events):
            if kind == "progress" and float(value) > 0:
                return i
        return len(self.events)

    def pushInfo(self, info: str) -> None:  # noqa: N802 (QGIS API name)
        self.events.append(("info", info))
        if self.cancel_on is not None and self.cancel_on in info:
            self.cancel()
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 (QGIS API name)
        self.events.append(("warning", warning))
        super().pushWarning(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802,N803
        self.events.append(("error", error))
        super().reportError(error, fatalError)


def run(alg: str, params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(alg, params, feedback=feedback or QgsProcessingFeedback())


def digest(*paths: str | Path) -> list[str]:
    return [hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths]


def snapshot(folder: str | Path) -> dict[str, str]:
    """Every file in a folder (recursively, hidden ones too) with its SHA-256."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, folder)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def fill_disk(folder: str | Path) -> None:
    """Write a filler file into ``folder`` until its file system is full (unbuffered, so the
    "no space left" is met here and never escapes into a Qt slot)."""
    fd = os.open(os.path.join(folder, "filler.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    chunk = b"\0" * 4096
    try:
        while True:
            os.write(fd, chunk)
    except OSError:
        pass
    finally:
        os.close(fd)


class SmallDisks:
    """Mounts small tmpfs file systems (root only) and unmounts them at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.mounted: list[Path] = []

    def __call__(self, size: str = "64k") -> Path:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip(
                "a full disk is simulated with a small tmpfs, and mounting one needs root; "
                "run the tests as root to include this check"
            )
        folder = self.base / f"disk{len(self.mounted)}"
        folder.mkdir()
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            pytest.skip(f"mounting a {size} tmpfs failed ({proc.stderr.strip()}); needs root")
        self.mounted.append(folder)
        return folder

    def unmount_all(self) -> None:
        for folder in self.mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def huge_vrt(path: Path, source: str, size: int, band_count: int = 1) -> str:
    """A ``size`` x ``size`` raster that holds no pixels of its own: a VRT stretching a small
    real GeoTIFF over the whole extent (nearest neighbour), same CRS, pixel size shrunk."""
    import rasterio

    with rasterio.open(source) as src:
        w, h = src.width, src.height
        t = src.transform
        crs = src.crs.to_wkt()
        dtype = src.dtypes[0]
    px = t.a * w / size
    py = t.e * h / size
    bands = "".join(
        f"""<VRTRasterBand dataType="{"Float32" if dtype == "float32" else "Float64"}" band="{b}">
    <SimpleSource>
      <SourceFilename relativeToVRT="0">{source}</SourceFilename>
      <SourceBand>{b}</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>
      <DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>
    </SimpleSource>
  </VRTRasterBand>"""
        for b in range(1, band_count + 1)
    )
    srs = html.escape(crs, quote=True)
    path.write_text(
        f"""<VRTDataset rasterXSize="{size}" rasterYSize="{size}">
  <SRS>{srs}</SRS>
  <GeoTransform>{t.c}, {px}, 0, {t.f}, 0, {py}</GeoTransform>
  {bands}
</VRTDataset>
"""
    )
    return str(path)


_FRESH_QGIS = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from qgis.core import QgsApplication, QgsProcessingException
app = QgsApplication([], False)
app.initQgis()
sys.path.insert(0, "/usr/share/qgis/python/plugins")
from processing.core.Processing import Processing
Processing.initialize()
import geohazard
plugin = geohazard.classFactory(None)
plugin.initProcessing()
import processing
from run_checks import RecordingFeedback
alg, params, cancel_on = json.loads(sys.argv[3])
feedback = RecordingFeedback(cancel_on=cancel_on)
error = None
try:
    processing.run(alg, params, feedback=feedback)
except QgsProcessingException as exc:
    error = str(exc)
print("RESULT " + json.dumps({"events": feedback.events, "error": error}))
"""


def run_in_fresh_qgis(
    alg: str, params: dict, cancel_on: str | None = None, timeout: float = 300
) -> tuple[RecordingFeedback, str | None]:
    """processing.run in a fresh QGIS process (for huge inputs: QGIS's own statistics of a huge
    layer take hundreds of MB, which must not stay in the test process). Returns a feedback
    holding the events and the error message (None when the run succeeded)."""
    import json
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _FRESH_QGIS,
            str(ROOT / ".venv" / "qgis-plugins"),
            str(Path(__file__).resolve().parent),
            json.dumps([alg, params, cancel_on]),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(lines[-1][len("RESULT ") :])
    feedback = RecordingFeedback()
    feedback.events = [tuple(e) for e in data["events"]]
    return feedback, data["error"]
