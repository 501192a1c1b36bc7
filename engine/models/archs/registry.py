"""Architecture registry: each ``*_arch.py`` registers its networks with :func:`register_arch`.

A model card stores an architecture as ``{"type": name, **constructor args}``; :func:`build_network`
turns that back into a network. Before anything is built, :func:`check_arch_config` refuses
unknown names, unknown or missing arguments and values outside the bounds each architecture
declares, so a hostile or broken card can never make the plugin allocate gigabytes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from torch import nn

from ...core.errors import GeohazardError

M = TypeVar("M", bound=type[nn.Module])


@dataclass(frozen=True)
class ArchEntry:
    """A registered architecture: its class and the allowed range of its numeric arguments."""

    cls: type[nn.Module]
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)


ARCHITECTURES: dict[str, ArchEntry] = {}
_loaded = False


def register_arch(
    name: str | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
    choices: dict[str, tuple[Any, ...]] | None = None,
) -> Callable[[M], M]:
    """Class decorator: register a network under ``name`` (default: the class name).

    Args:
        name: the ``type`` a model card uses for this architecture.
        bounds: inclusive ``(min, max)`` per numeric constructor argument; a card outside them
            is refused before the network is built.
        choices: allowed values per constructor argument (e.g. ``{"scale": (2, 4)}``).
    """

    def wrap(cls: M) -> M:
        key = name or cls.__name__
        if key in ARCHITECTURES and ARCHITECTURES[key].cls is not cls:
            raise ValueError(f"architecture {key!r} is registered twice")
        ARCHITECTURES[key] = ArchEntry(cls, dict(bounds or {}), dict(choices or {}))
        return cls

    return wrap


def load_architectures() -> dict[str, ArchEntry]:
    """Import every ``*_arch.py`` module of this package once, so each registers itself."""
    global _loaded
    if not _loaded:
        package = __name__.rsplit(".", 1)[0]
        path = importlib.import_module(package).__path__
        for info in pkgutil.iter_modules(path):
            if info.name.endswith("_arch"):
                importlib.import_module(f"{package}.{info.name}")
        _loaded = True
    return ARCHITECTURES


def check_arch_config(config: Any, allowed: tuple[str, ...] | None = None) -> ArchEntry:
    """Validate a card's architecture entry without building anything; one sentence per problem.

    Args:
        config: the card's ``architecture`` mapping (``type`` plus constructor arguments).
        allowed: architecture names the task accepts (None: any registered one).
    """
    if not isinstance(config, dict):
        raise GeohazardError("The model card's 'architecture' must be a mapping with a 'type'.")
    archs = load_architectures()
    name = config.get("type")
    if allowed is not None and name not in allowed:
        raise GeohazardError(
            f"The model card names the architecture '{name}', which this task cannot run "
            f"(it runs {', '.join(allowed)})."
        )
    if name not in archs:
        raise GeohazardError(
            f"Unknown architecture '{name}'; known ones: {', '.join(sorted(archs))}."
        )
    entry = archs[name]
    params = inspect.signature(entry.cls.__init__).parameters
    accepted = {k for k in params if k != "self"}
    args = {k: v for k, v in config.items() if k != "type"}
    unknown = sorted(set(args) - accepted)
    if unknown:
        raise GeohazardError(f"The architecture {name} has no argument(s) {', '.join(unknown)}.")
    for key, value in args.items():
        default = params[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise GeohazardError(f"{name}: '{key}' must be true or false, not {value!r}.")
        if key in entry.choices and value not in entry.choices[key]:
            options = ", ".join(str(c) for c in entry.choices[key])
            raise GeohazardError(f"{name}: '{key}' must be one of {options}, not {value!r}.")
        if key in entry.bounds:
            lo, hi = entry.bounds[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GeohazardError(f"{name}: '{key}' must be a number, not {value!r}.")
            if isinstance(default, int) and not isinstance(value, int):
                raise GeohazardError(f"{name}: '{key}' must be a whole number, not {value!r}.")
            if not lo <= value <= hi:
                raise GeohazardError(
                    f"{name}: '{key}' is {value}, outside the range this plugin accepts "
                    f"({lo:g} to {hi:g}); the model card is refused."
                )
    return entry


def build_network(config: dict[str, Any], allowed: tuple[str, ...] | None = None) -> nn.Module:
    """Instantiate the architecture named by ``config["type"]`` with the other keys as arguments.

    The configuration is checked first (:func:`check_arch_config`).
    """
    entry = check_arch_config(config, allowed)
    args = {k: v for k, v in config.items() if k != "type"}
    try:
        return entry.cls(**args)
    except (TypeError, ValueError) as exc:
        raise GeohazardError(f"Invalid configuration for {config.get('type')}: {exc}") from exc
