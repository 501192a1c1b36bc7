"""Which torch build to install on this machine: CUDA matched to the driver, MPS, or CPU.

PyTorch publishes one wheel index per build (``https://download.pytorch.org/whl/<tag>``). The
NVIDIA driver reports in ``nvidia-smi``'s header the newest CUDA version it supports; any build
for that CUDA version or older runs on it, so the newest such build is chosen. No GPU (or a
driver too old for every build) gives the CPU build, which on Linux and Windows is also a much
smaller download than PyPI's default CUDA wheel. On macOS the standard wheel from PyPI is the
one to use: on Apple Silicon it reaches the GPU through MPS.
"""

from __future__ import annotations

import os
import platform as _platform
import re
import shutil
import subprocess  # nosec B404  # runs nvidia-smi to pick the torch build; no shell
import sys
from dataclasses import dataclass

from .processes import NO_WINDOW

TORCH_INDEX = "https://download.pytorch.org/whl/"

# CUDA builds published for the pinned torch version (requirements.TORCH_VERSION), newest
# first, with the CUDA version each needs from the driver. Update with the torch pin.
CUDA_BUILDS: tuple[tuple[str, tuple[int, int]], ...] = (
    ("cu130", (13, 0)),
    ("cu128", (12, 8)),
    ("cu126", (12, 6)),
)

# What the installer dialog offers as an override of the automatic choice.
BUILD_CHOICES: tuple[str, ...] = ("auto", "cpu", *(tag for tag, _ in CUDA_BUILDS), "default")

_CUDA_RE = re.compile(r"CUDA Version\s*:\s*(\d+)\.(\d+)")
_DRIVER_RE = re.compile(r"Driver Version\s*:\s*([\d.]+)")


@dataclass(frozen=True)
class GpuReport:
    """What ``nvidia-smi`` said: driver version, newest CUDA it supports, GPU names."""

    driver: str | None
    cuda: tuple[int, int] | None
    gpus: tuple[str, ...] = ()


@dataclass(frozen=True)
class TorchBuild:
    """A torch build to install.

    Args:
        tag: ``cu128``, ``cpu``, or ``default`` (pip's configured index, no ``--index-url``).
        index_url: the wheel index pip must use, or None for pip's configured index.
        reason: a sentence saying why this build, shown in the installer.
    """

    tag: str
    index_url: str | None
    reason: str

    @property
    def uses_cuda(self) -> bool:
        return self.tag.startswith("cu")


def parse_nvidia_smi(header: str, gpu_list: str = "") -> GpuReport:
    """Read the driver and CUDA versions from ``nvidia-smi``'s output (None when absent)."""
    cuda = _CUDA_RE.search(header)
    driver = _DRIVER_RE.search(header)
    gpus = tuple(line.strip() for line in gpu_list.splitlines() if line.strip())
    return GpuReport(
        driver.group(1) if driver else None,
        (int(cuda.group(1)), int(cuda.group(2))) if cuda else None,
        gpus,
    )


def nvidia_smi_path() -> str | None:
    found = shutil.which("nvidia-smi")
    if found:
        return found
    if sys.platform.startswith("win"):
        # Older Windows drivers put it here instead of System32.
        legacy = os.path.join(
            os.environ.get("ProgramFiles", r"C:\Program Files"),
            "NVIDIA Corporation",
            "NVSMI",
            "nvidia-smi.exe",
        )
        if os.path.isfile(legacy):
            return legacy
    return None


def query_gpu(timeout: float = 15.0) -> GpuReport | None:
    """Run ``nvidia-smi``; None when it is absent or fails (no NVIDIA GPU or driver)."""
    exe = nvidia_smi_path()
    if exe is None:
        return None
    try:
        header = subprocess.run(  # nosec B603  # nvidia-smi found on PATH, fixed argv
            [exe], capture_output=True, text=True, timeout=timeout, creationflags=NO_WINDOW
        )
        names = subprocess.run(  # nosec B603  # nvidia-smi found on PATH, fixed argv
            [exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout,
            creationflags=NO_WINDOW,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if header.returncode != 0:
        return None
    return parse_nvidia_smi(header.stdout, names.stdout if names.returncode == 0 else "")


def cpu_build(reason: str, platform: str = sys.platform) -> TorchBuild:
    if platform == "darwin":
        return TorchBuild("default", None, reason)
    return TorchBuild("cpu", TORCH_INDEX + "cpu", reason)


def choose_build(
    gpu: GpuReport | None,
    platform: str = sys.platform,
    machine: str | None = None,
    override: str = "auto",
) -> TorchBuild:
    """The torch build for this machine, or the one the user chose in ``override``.

    Args:
        gpu: ``query_gpu()``'s report, None without an NVIDIA driver.
        platform: ``sys.platform``.
        machine: ``platform.machine()`` (``arm64`` on Apple Silicon).
        override: one of :data:`BUILD_CHOICES`; ``auto`` decides from the hardware.
    """
    machine = machine or _platform.machine()
    if override not in BUILD_CHOICES:
        raise ValueError(
            f"Unknown torch build '{override}'; choose one of {', '.join(BUILD_CHOICES)}."
        )
    if override == "default":
        return TorchBuild("default", None, "As chosen: pip's configured package index.")
    if override == "cpu":
        return cpu_build("As chosen: the CPU build.", platform)
    if override != "auto":
        return TorchBuild(override, TORCH_INDEX + override, f"As chosen: the {override} build.")
    if platform == "darwin":
        if machine == "arm64":
            return TorchBuild(
                "default",
                None,
                "macOS on Apple Silicon: the standard wheel, which uses the GPU through MPS.",
            )
        return TorchBuild(
            "default",
            None,
            "macOS on an Intel Mac: the standard CPU wheel (PyTorch publishes recent versions "
            "for Apple Silicon only, so this may fail; see the README).",
        )
    if gpu is None:
        return cpu_build("No NVIDIA driver found (nvidia-smi absent or failing): the CPU build.")
    gpu_name = gpu.gpus[0].split(",")[0] if gpu.gpus else "an NVIDIA GPU"
    if gpu.cuda is None:
        return cpu_build(
            f"nvidia-smi found {gpu_name} but reported no CUDA version: the CPU build. "
            "Choose a CUDA build by hand if you know your driver supports it."
        )
    for tag, needs in CUDA_BUILDS:
        if gpu.cuda >= needs:
            return TorchBuild(
                tag,
                TORCH_INDEX + tag,
                f"{gpu_name}, driver {gpu.driver} supports CUDA up to "
                f"{gpu.cuda[0]}.{gpu.cuda[1]}: the {tag} build (CUDA {needs[0]}.{needs[1]}).",
            )
    oldest = CUDA_BUILDS[-1][1]
    return cpu_build(
        f"{gpu_name}, driver {gpu.driver} supports CUDA only up to {gpu.cuda[0]}.{gpu.cuda[1]}; "
        f"torch needs at least CUDA {oldest[0]}.{oldest[1]}. Installing the CPU build; update "
        "the NVIDIA driver and run the installer again to use the GPU."
    )
