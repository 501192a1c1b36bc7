"""Find the Python interpreter that QGIS itself runs, to call ``python -m pip`` with it.

Inside QGIS, ``sys.executable`` is not a reliable answer, and this is the common cause of
"installed but still missing" reports:

- Windows (OSGeo4W and the standalone installer): ``sys.executable`` is ``qgis-bin.exe``; the
  interpreter is ``python.exe`` in ``sys.exec_prefix`` (``...\\apps\\Python3xx``). Child
  processes inherit QGIS's environment (PATH, PYTHONHOME set by the launcher), which that
  python.exe needs to find its DLLs and the SSL libraries pip uses.
- macOS (QGIS.app): ``sys.executable`` is the ``QGIS`` binary; the interpreter is
  ``bin/python3`` under ``sys.exec_prefix`` (or next to the QGIS binary in recent bundles).
- Linux: QGIS embeds libpython without setting a program name, so Python searches PATH for
  ``python3``: seen on Debian 12 with QGIS 3.22, ``sys.executable`` was a pyenv shim for a
  *different* Python 3.11.7 while QGIS ran Debian's 3.11.2 (``sys.exec_prefix`` ``/usr``).

So candidates are derived from ``sys.exec_prefix`` (and the QGIS binary's folder on macOS), with
``sys.executable`` last, and each is *asked* for its version and ``sys.exec_prefix``: only one
that reports the same Python version and the same prefix as the running interpreter is used.
Nothing is guessed; when no candidate passes, the error lists what was tried and why each failed.
"""

from __future__ import annotations

import os
import subprocess  # nosec B404  # asks candidate interpreters their version; no shell
import sys
from dataclasses import dataclass, field
from typing import Callable

from .processes import NO_WINDOW

_PROBE = "import sys; print(sys.version_info[0], sys.version_info[1]); print(sys.exec_prefix)"


@dataclass(frozen=True)
class InterpreterInfo:
    """What an interpreter says about itself: (major, minor) and its ``sys.exec_prefix``."""

    version: tuple[int, int]
    exec_prefix: str


@dataclass
class PythonFinding:
    """The chosen interpreter, or None, with the candidates rejected on the way and why."""

    executable: str | None
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def explain(self) -> str:
        tried = "; ".join(f"{p}: {why}" for p, why in self.rejected) or "no candidate found"
        return (
            "Could not find the Python interpreter that QGIS runs (needed to run pip). "
            f"Tried: {tried}."
        )


def running_interpreter() -> InterpreterInfo:
    return InterpreterInfo((sys.version_info.major, sys.version_info.minor), sys.exec_prefix)


def candidates(
    platform: str = sys.platform,
    exec_prefix: str = sys.exec_prefix,
    executable: str = sys.executable,
    version: tuple[int, int] | None = None,
) -> list[str]:
    """Interpreter paths to try, most trustworthy first, without duplicates."""
    major, minor = version or (sys.version_info.major, sys.version_info.minor)
    out: list[str] = []
    if platform.startswith("win"):
        out += [os.path.join(exec_prefix, "python.exe"), os.path.join(exec_prefix, "python3.exe")]
    else:
        for name in (f"python{major}.{minor}", f"python{major}", "python"):
            out.append(os.path.join(exec_prefix, "bin", name))
        if platform == "darwin" and executable:
            # QGIS.app/Contents/MacOS/QGIS -> QGIS.app/Contents/MacOS/bin/python3
            out.append(os.path.join(os.path.dirname(executable), "bin", f"python{major}"))
    base = getattr(sys, "_base_executable", "") or ""
    for extra in (executable, base):
        name = os.path.basename(extra).lower()
        if extra and name.startswith("python"):
            out.append(extra)
    seen: set[str] = set()
    unique = []
    for path in out:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


def probe(executable: str, timeout: float = 30.0) -> InterpreterInfo:
    """Ask ``executable`` for its version and exec_prefix (raises OSError/ValueError)."""
    proc = subprocess.run(  # nosec B603  # fixed probe code, argv list, no shell
        [executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=timeout,
        creationflags=NO_WINDOW,
    )
    if proc.returncode != 0:
        raise ValueError(f"exited with {proc.returncode}: {proc.stderr.strip()[-200:]}")
    lines = proc.stdout.strip().splitlines()
    major, minor = (int(x) for x in lines[0].split())
    return InterpreterInfo((major, minor), lines[1].strip())


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def rejection(
    path: str,
    want: InterpreterInfo,
    ask: Callable[[str], InterpreterInfo] = probe,
    same_prefix: bool = True,
) -> str | None:
    """Why ``path`` is not QGIS's Python, or None when it is.

    ``same_prefix=False`` is for an interpreter the user picked by hand: it must still be the
    same Python version (compiled wheels are per version), but may live elsewhere.
    """
    if not os.path.isfile(path):
        return "does not exist"
    try:
        info = ask(path)
    except (OSError, ValueError, IndexError, subprocess.SubprocessError) as exc:
        return f"could not be run ({exc})"
    if info.version != want.version:
        return (
            f"is Python {info.version[0]}.{info.version[1]}, QGIS runs "
            f"{want.version[0]}.{want.version[1]}"
        )
    if same_prefix and not _same_path(info.exec_prefix, want.exec_prefix):
        return f"belongs to {info.exec_prefix}, QGIS's Python to {want.exec_prefix}"
    return None


def find_qgis_python(
    paths: list[str] | None = None,
    expected: InterpreterInfo | None = None,
    ask: Callable[[str], InterpreterInfo] = probe,
) -> PythonFinding:
    """The first candidate that reports the running interpreter's version and exec_prefix."""
    want = expected or running_interpreter()
    finding = PythonFinding(None)
    for path in paths if paths is not None else candidates():
        why = rejection(path, want, ask)
        if why is None:
            finding.executable = path
            return finding
        finding.rejected.append((path, why))
    return finding
