"""Running an install plan and judging its outcome; shared by the dialog and the tests.

:class:`PlanRun` holds the state of a run (which step, its parser, the log) and decides what a
finished step means; the dialog drives it from a QProcess (never blocking the GUI), and
:func:`run_plan` drives it with ``subprocess`` for tests and scripts.
"""

from __future__ import annotations

import os
import shlex
import subprocess  # nosec B404  # the installer runs pip; argv lists, never a shell
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

from .pip_command import (
    RAW_PROGRESS_SINCE,
    InstallStep,
    PipOutputParser,
    parse_verify_output,
    pip_version,
    plan_progress,
    with_raw_progress,
)
from .processes import NO_WINDOW


@dataclass
class InstallResult:
    """The outcome: ``ok``, a message for the user, and what the verifying import reported."""

    ok: bool
    message: str
    imported: dict[str, dict[str, object]] = field(default_factory=dict)


def child_environment(
    base: dict[str, str] | None = None, proxy: str | None = None
) -> dict[str, str]:
    """The environment for pip and the import check: QGIS's own (PATH and PYTHONHOME matter on
    Windows; PYTHONPATH is kept so the import check sees what QGIS sees), unbuffered, UTF-8.

    Args:
        base: the environment to start from (default: this process's).
        proxy: QGIS's proxy (``http://host:port``), used unless HTTP(S)_PROXY is already set.
    """
    env = dict(os.environ if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    if proxy and not any(
        k in env for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")
    ):
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = proxy
    return env


def failure_hint(text: str) -> str:
    """Advice for pip failures whose cause is common and not obvious from pip's message."""
    lowered = text.lower()
    if "winerror 5" in lowered or "access is denied" in lowered or "winerror 32" in lowered:
        return (
            "\nA file in the folder is in use, probably by a package already loaded in this QGIS "
            "session (Windows locks loaded libraries). Restart QGIS and run the installer before "
            "running any Geohazard algorithm."
        )
    if "permission denied" in lowered:
        return "\nThe folder is not writable by your user account."
    if "connection" in lowered and ("retry" in lowered or "timed out" in lowered):
        return (
            "\nThe package index could not be reached: check the network, or set QGIS's proxy "
            "in Settings > Options > Network."
        )
    if "no space left" in lowered:
        return "\nThe disk is full: torch with CUDA needs several GB free."
    return ""


class PlanRun:
    """The state of one install: feed it each output line and each step's exit code."""

    def __init__(self, steps: Sequence[InstallStep]) -> None:
        self.steps = list(steps)
        self.index = 0
        self.parser = PipOutputParser()
        self.output: list[str] = []
        self.log: list[str] = []
        self.result: InstallResult | None = None

    @property
    def step(self) -> InstallStep:
        return self.steps[self.index]

    def start_step(self) -> list[str]:
        """The command of the current step (logged)."""
        self.parser = PipOutputParser()
        self.output = []
        self.log.append(f"== {self.step.title}: {describe_command(self.step)}")
        return self.step.command

    def feed(self, line: str) -> float:
        """One line of output; returns the overall progress fraction."""
        line = line.rstrip("\r\n")
        self.output.append(line)
        self.log.append(line)
        return plan_progress(self.steps, self.index, self.parser.feed(line))

    def finish_step(self, returncode: int) -> bool:
        """Judge the step that just ended; True when there is a next step to start."""
        step = self.step
        text = "\n".join(self.output)
        if step.kind == "check" and returncode != 0:
            self.result = InstallResult(
                False,
                "pip is not available for QGIS's Python "
                f"({step.command[0]}). On Debian/Ubuntu install the package python3-pip; "
                "elsewhere see the README.\n" + text[-1500:],
            )
            return False
        if step.kind == "check":
            version = pip_version(text)
            if version is not None and version >= RAW_PROGRESS_SINCE:
                self.steps = [with_raw_progress(s) for s in self.steps]
        if step.kind == "pip" and returncode != 0:
            pip_error = self.parser.error_text() or text[-1500:]
            self.result = InstallResult(
                False,
                f"{step.title} failed (pip exit code {returncode}):\n{pip_error}"
                + failure_hint(text),
            )
            return False
        if step.kind == "verify":
            imported = parse_verify_output(text)
            failed = {k: v for k, v in imported.items() if "error" in v}
            if returncode != 0 or not imported:
                self.result = InstallResult(
                    False, "The import check could not run:\n" + text[-1500:]
                )
            elif failed:
                lines = "\n".join(f"{k}: {v['error']}" for k, v in failed.items())
                self.result = InstallResult(
                    False,
                    f"Installed, but these do not import:\n{lines}\nIf the error names another "
                    "package, QGIS's Python probably has an older copy of it, which is found "
                    "before the plugin's folder; update it with the tool that installed QGIS "
                    "(OSGeo4W setup, the system's package manager).",
                    imported,
                )
            else:
                message = success_message(imported) + shadowed_note(imported, step.target)
                self.result = InstallResult(True, message, imported)
            return False
        self.index += 1
        if self.index >= len(self.steps):
            self.result = InstallResult(True, "Installed.")
            return False
        return True

    def cancel(self) -> None:
        self.result = InstallResult(False, "Cancelled; packages already installed stay in place.")

    def final(self) -> InstallResult:
        """The result of a run that has ended (done, failed or cancelled)."""
        if self.result is None:
            raise RuntimeError("the install has not ended yet")
        return self.result


def describe_command(step: InstallStep) -> str:
    """The command as a user can paste it into a terminal (the import check abbreviated)."""
    if step.kind == "verify":
        return f"{step.command[0]} -c <import check>"
    return shlex.join(step.command)


def shadowed_note(imported: dict[str, dict[str, object]], target: str) -> str:
    """A note for packages imported from somewhere else than the folder just installed into.

    The managed folder comes last on sys.path, so a copy that QGIS's Python already has wins
    (e.g. a CPU torch installed system-wide hides a CUDA torch installed here).
    """
    if not target:
        return ""
    root = os.path.normcase(os.path.abspath(target))
    elsewhere = [
        f"{name} from {info['file']}"
        for name, info in imported.items()
        if info.get("file") and not os.path.normcase(str(info["file"])).startswith(root)
    ]
    if not elsewhere:
        return ""
    return (
        " Note: QGIS's Python finds its own copy first, so the one just installed is not used: "
        + "; ".join(elsewhere)
        + ". Uninstall that copy to use the new one."
    )


def success_message(imported: dict[str, dict[str, object]]) -> str:
    parts = []
    for name, info in imported.items():
        part = f"{name} {info.get('version')}"
        if name == "torch":
            if info.get("cuda"):
                part += " (CUDA available)"
            elif info.get("mps"):
                part += " (Apple MPS available)"
            elif info.get("cuda_build"):
                part += f" (CUDA {info['cuda_build']} build, but no GPU visible to it)"
            else:
                part += " (CPU build)"
        parts.append(part)
    return "All packages import: " + ", ".join(parts) + "."


def run_plan(
    steps: Sequence[InstallStep],
    progress: Callable[[float], None] = lambda f: None,
    line: Callable[[str], None] = lambda s: None,
    is_canceled: Callable[[], bool] = lambda: False,
) -> InstallResult:
    """Run the steps one after the other with ``subprocess`` (outside the GUI)."""
    run = PlanRun(steps)
    while True:
        cmd = run.start_step()
        proc = subprocess.Popen(  # nosec B603  # argv of the plan shown to the user; no shell
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=child_environment(),
            creationflags=NO_WINDOW,
        )
        if proc.stdout is None:  # never with stdout=PIPE; checked so that -O keeps the check
            raise RuntimeError("pip's output could not be read")
        for text in proc.stdout:
            line(text.rstrip("\r\n"))
            progress(run.feed(text))
            if is_canceled():
                proc.kill()
                proc.wait()
                run.cancel()
                return run.final()
        if not run.finish_step(proc.wait()):
            break
    progress(
        1.0
        if run.result and run.result.ok
        else plan_progress(steps, run.index, run.parser.fraction)
    )
    return run.final()
