"""pip commands for the installer and the reading of pip's output (progress, errors, result).

Everything here is plain Python so it can be tested without QGIS; the installer dialog only
runs the commands (in a QProcess) and shows what :class:`PipOutputParser` makes of the lines.

Install layout: ``pip install --target <managed folder> --upgrade`` (see ``managed_folder``).
``--target`` also makes pip skip its "externally managed environment" refusal (PEP 668, Debian
12 and others), since nothing is written into the interpreter's own environment.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata

from .requirements import Requirement
from .torch_build import TorchBuild

# Packages whose compiled ABI other packages of QGIS's Python are built against: when QGIS
# already has them, pip is constrained to that exact version, so a wheel needing another one
# is never chosen (ENVIRONMENT.md: numpy 2 pulled in beside Debian's GDAL bindings breaks them).
PINNED_FROM_QGIS: tuple[str, ...] = ("numpy",)


@dataclass(frozen=True)
class InstallStep:
    """One command of an installation, with its share of the overall progress bar."""

    title: str
    command: list[str]
    weight: float = 1.0
    kind: str = "pip"  # "pip", "check" or "verify"
    target: str = ""  # the managed folder the plan installs into


def pip_base(python: str) -> list[str]:
    return [python, "-m", "pip"]


def pip_check_step(python: str) -> InstallStep:
    """``python -m pip --version``: fails clearly when QGIS's Python has no pip."""
    return InstallStep("Checking pip", [*pip_base(python), "--version"], 0.05, "check")


def pip_install_command(
    python: str,
    target: str,
    packages: Sequence[str],
    index_url: str | None = None,
    constraints_file: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """``python -m pip install --target <target> --upgrade ... <packages>``.

    Args:
        python: QGIS's Python interpreter (``python_finder.find_qgis_python``).
        target: the managed folder.
        packages: requirement strings (``torch==2.13.0``).
        index_url: replaces pip's main index (the torch build's index); None keeps pip's own
            configuration (pip.conf, PIP_INDEX_URL, find-links), which is also what corporate
            mirrors use.
        constraints_file: a pip constraints file (``-c``).
        extra_args: anything else for pip (tests pass ``--no-cache-dir``).
    """
    cmd = [
        *pip_base(python),
        "install",
        "--target",
        target,
        "--upgrade",
        "--prefer-binary",
        "--no-input",
        "--disable-pip-version-check",
    ]
    if index_url:
        cmd += ["--index-url", index_url]
    if constraints_file:
        cmd += ["--constraint", constraints_file]
    cmd += list(extra_args)
    cmd += list(packages)
    return cmd


def constraints_text(names: Sequence[str] = PINNED_FROM_QGIS) -> str:
    """``numpy==1.24.2`` lines for the packages QGIS's Python already has (see PINNED_FROM_QGIS)."""
    lines = []
    for name in names:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return "".join(line + "\n" for line in lines)


def write_constraints_file(text: str | None = None) -> str:
    """Write the pip constraints to a new, uniquely named file in the temp folder; returns it.

    The name is created exclusively (``tempfile.mkstemp``: ``O_CREAT | O_EXCL``, mode 0600), so
    a file or symlink another user planted in the shared temp folder is never opened or
    overwritten, and two installers never share the file. The caller deletes it when pip is done.
    """
    fd, path = tempfile.mkstemp(prefix="geohazard-pip-constraints-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(constraints_text() if text is None else text)
    return path


def remove_quietly(path: str | None) -> None:
    """Delete a temporary file if it is still there."""
    if path:
        try:
            os.remove(path)
        except OSError:
            pass


_VERIFY = """
import importlib, json, site, sys
site.addsitedir({target!r})
out = {{}}
for name in {modules!r}:
    try:
        mod = importlib.import_module(name)
        info = {{"version": str(getattr(mod, "__version__", "?")),
                "file": str(getattr(mod, "__file__", ""))}}
        if name == "torch":
            info["cuda"] = bool(mod.cuda.is_available())
            info["cuda_build"] = mod.version.cuda
            mps = getattr(getattr(mod, "backends", None), "mps", None)
            info["mps"] = bool(mps.is_available()) if mps is not None else False
        out[name] = info
    except Exception as exc:
        out[name] = {{"error": type(exc).__name__ + ": " + str(exc)}}
print("GEOHAZARD-VERIFY " + json.dumps(out))
"""


def verify_command(python: str, target: str, modules: Sequence[str]) -> list[str]:
    """A command importing ``modules`` in a fresh interpreter, the managed folder appended to
    sys.path exactly as the plugin does; its output is read by :func:`parse_verify_output`."""
    return [python, "-c", _VERIFY.format(target=target, modules=list(modules))]


def parse_verify_output(text: str) -> dict[str, dict[str, object]]:
    for line in text.splitlines():
        if line.startswith("GEOHAZARD-VERIFY "):
            return json.loads(line[len("GEOHAZARD-VERIFY ") :])  # type: ignore[no-any-return]
    return {}


def build_plan(
    python: str,
    target: str,
    requirements: Sequence[Requirement],
    torch: TorchBuild | None,
    constraints_file: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[InstallStep]:
    """The commands installing ``requirements`` into ``target``, checked by an import at the end.

    torch is installed in its own step from its build's index (the PyTorch index hosts torch and
    its dependencies); everything else comes from pip's configured index in one step.
    """
    steps = [pip_check_step(python)]
    others: list[str] = []
    for req in requirements:
        if req.module == "torch":
            if torch is None:
                others.append(req.pip)
                continue
            steps.append(
                InstallStep(
                    f"Installing torch ({torch.tag} build)",
                    pip_install_command(
                        python,
                        target,
                        [req.pip, *req.extra_pip],
                        torch.index_url,
                        constraints_file,
                        extra_args,
                    ),
                    0.7,
                )
            )
        else:
            others += [req.pip, *req.extra_pip]
    if others:
        steps.append(
            InstallStep(
                "Installing "
                + ", ".join(r.module for r in requirements if r.module != "torch" or torch is None),
                pip_install_command(python, target, others, None, constraints_file, extra_args),
                0.25,
            )
        )
    steps.append(
        InstallStep(
            "Checking the imports",
            verify_command(python, target, [r.module for r in requirements]),
            0.05,
            "verify",
            target,
        )
    )
    return steps


# "Collecting x" for an index download, un-indented "Processing /path/x.whl" for a local file.
_COLLECTING = re.compile(r"^(?:\s*Collecting|Processing)\s+(\S+)")
_DOWNLOADING = re.compile(r"^\s*(Downloading|Using cached)\s+(\S+)")
_INSTALLING = re.compile(r"^\s*Installing collected packages:\s*(.*)$")
_SUCCESS = re.compile(r"^\s*Successfully installed\s+(.*)$")
_RAW_PROGRESS = re.compile(r"^\s*Progress\s+(\d+)\s+of\s+(\d+)")


@dataclass
class PipOutputParser:
    """Turns pip's output lines into a progress fraction, a status and error text.

    pip does not announce how many packages it will fetch before it has resolved them, so the
    resolving/downloading phase advances towards 70% with each package seen, installing jumps
    to 75% and "Successfully installed" to 100%. Newer pip's ``--progress-bar raw`` lines
    ("Progress N of M") refine the download of a big wheel such as torch.
    """

    fraction: float = 0.0
    status: str = ""
    collected: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _in_error: bool = False

    def feed(self, line: str) -> float:
        """Read one line; returns the progress fraction of this command so far (0..1)."""
        text = line.rstrip("\r\n")
        if m := _COLLECTING.match(text):
            self.collected.append(m.group(1))
            self.status = f"Resolving {m.group(1).rsplit('/', 1)[-1]}"
            self._advance(0.7 * (1.0 - 0.8 ** len(self.collected)))
        elif m := _DOWNLOADING.match(text):
            self.status = f"{m.group(1)} {m.group(2).rsplit('/', 1)[-1]}"
        elif m := _RAW_PROGRESS.match(text):
            done, total = int(m.group(1)), max(int(m.group(2)), 1)
            base = 0.7 * (1.0 - 0.8 ** max(len(self.collected) - 1, 0))
            self._advance(base + (0.7 - base) * done / total)
        elif m := _INSTALLING.match(text):
            self.status = f"Installing {m.group(1)}"
            self._advance(0.75)
        elif m := _SUCCESS.match(text):
            self.installed = m.group(1).split()
            self.status = "Installed " + ", ".join(self.installed)
            self._advance(1.0)
        if text.startswith("ERROR:"):
            self._in_error = True
            self.errors.append(text[len("ERROR:") :].strip())
        elif self._in_error and text.strip() and text.startswith((" ", "\t")):
            self.errors.append(text.strip())
        else:
            self._in_error = False
        return self.fraction

    def _advance(self, value: float) -> None:
        self.fraction = max(self.fraction, min(value, 1.0))

    def error_text(self) -> str:
        """pip's own error lines, joined (empty when pip printed none)."""
        return "\n".join(self.errors)


_PIP_VERSION = re.compile(r"^pip (\d+)\.(\d+)")
RAW_PROGRESS_SINCE = (24, 1)  # pip's --progress-bar=raw: "Progress N of M" lines without a TTY


def pip_version(output: str) -> tuple[int, int] | None:
    """(major, minor) from ``pip --version`` output."""
    for line in output.splitlines():
        if m := _PIP_VERSION.match(line.strip()):
            return int(m.group(1)), int(m.group(2))
    return None


def with_raw_progress(step: InstallStep) -> InstallStep:
    """The step with ``--progress-bar=raw`` after ``install``, so a big download (torch)
    reports its progress line by line to a QProcess, which is not a terminal."""
    cmd = list(step.command)
    if step.kind != "pip" or "install" not in cmd or "--progress-bar=raw" in cmd:
        return step
    i = cmd.index("install") + 1
    return replace(step, command=[*cmd[:i], "--progress-bar=raw", *cmd[i:]])


def plan_progress(steps: Sequence[InstallStep], index: int, step_fraction: float) -> float:
    """Overall fraction when step ``index`` is ``step_fraction`` done."""
    total = sum(s.weight for s in steps) or 1.0
    done = sum(s.weight for s in steps[:index])
    return min((done + steps[index].weight * step_fraction) / total, 1.0)


def python_version_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
