"""What the plugin needs from outside QGIS, and a cheap check of what is missing.

The check uses ``importlib.util.find_spec``, which locates a module without importing it, so
asking "is torch there?" when the plugin loads costs milliseconds and never runs torch's import.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """A package the plugin imports.

    Args:
        module: the name the code imports (``torch``).
        pip: what pip is asked for (``torch==2.13.0``); the torch build (CUDA/CPU index) is
            chosen separately, see ``torch_build``.
        purpose: half a sentence saying what it is used for, shown in the installer.
        extra_pip: further pins installed with it (e.g. ``affine<3`` for rasterio).
    """

    module: str
    pip: str
    purpose: str
    extra_pip: tuple[str, ...] = ()


TORCH_VERSION = "2.13.0"

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("numpy", "numpy", "arrays (QGIS normally ships it)"),
    Requirement("torch", f"torch=={TORCH_VERSION}", "neural networks and GPU compute"),
    Requirement(
        "rasterio",
        "rasterio>=1.4,<1.5",
        "windowed GeoTIFF reading and writing",
        # affine 3 breaks rasterio 1.4 on Python 3.11.2 (TypeError about '_astuple').
        extra_pip=("affine<3",),
    ),
    Requirement("safetensors", "safetensors>=0.4", "loading model weights safely"),
    Requirement("scipy", "scipy", "image filters (DEM nodata filling, SSIM, simulators)"),
    Requirement("matplotlib", "matplotlib", "training curves (QGIS normally ships it)"),
)

BY_MODULE = {r.module: r for r in REQUIREMENTS}

# What an algorithm needs unless it says otherwise.
DEFAULT_MODULES: tuple[str, ...] = ("numpy", "torch", "rasterio")
# Everything some part of the plugin imports: what the message bar and the installer name.
PLUGIN_MODULES: tuple[str, ...] = tuple(r.module for r in REQUIREMENTS)


def is_available(module: str) -> bool:
    """True when ``module`` can be imported (found on sys.path), without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        # A module made unimportable (e.g. sys.modules[name] = None) or a broken parent package.
        return False


def missing_modules(modules: Iterable[str] = PLUGIN_MODULES) -> list[str]:
    """The modules among ``modules`` that cannot be imported, in the order given.

    The one answer to "what is missing?": the message bar and the installer ask it about
    everything the plugin uses, each algorithm about what it imports (a subset), so they can
    never name different packages.
    """
    importlib.invalidate_caches()
    return [m for m in modules if not is_available(m)]


def requirements_for(modules: Sequence[str]) -> list[Requirement]:
    """The :class:`Requirement` for each module name (unknown names get a bare pip name)."""
    return [BY_MODULE.get(m, Requirement(m, m, "")) for m in modules]


def join_names(names: Sequence[str]) -> tuple[str, str]:
    """("a, b and c", "are") or ("a", "is"), for a sentence naming packages."""
    if len(names) == 1:
        return names[0], "is"
    return ", ".join(names[:-1]) + " and " + names[-1], "are"


def missing_message(missing: Sequence[str]) -> str:
    """One sentence for canExecute and the log, naming what is missing and the fix."""
    if not missing:
        return ""
    names, verb = join_names(missing)
    return (
        f"{names} {verb} not installed for the Python that QGIS runs, so this algorithm cannot "
        "run. In QGIS, use Plugins > Geohazard > Install dependencies... (the README describes "
        "other ways), then run it again."
    )
