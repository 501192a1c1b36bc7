"""Every algorithm of the provider, found by scanning, never listed by hand.

An algorithm is a class with a non-empty ``ALG_NAME`` on :class:`.base_algorithm.GeohazardAlgorithm`
defined in a module of this folder, or in the ``algorithms.py`` of a model family package of a
folder named in ``GEOHAZARD_FAMILY_PATH`` (see ``engine/families/__init__.py``). Only modules
whose text sets an ``ALG_NAME`` are imported, so helpers stay unimported.
"""

from __future__ import annotations

import glob
import importlib
import os
from types import ModuleType

from .base_algorithm import GeohazardAlgorithm

MARK = "ALG_NAME = "


def _defined_in(module: ModuleType) -> list[type[GeohazardAlgorithm]]:
    return [
        c
        for c in vars(module).values()
        if isinstance(c, type)
        and issubclass(c, GeohazardAlgorithm)
        and c.__module__ == module.__name__
        and c.ALG_NAME
    ]


def _marked(path: str) -> bool:
    with open(path, encoding="utf-8") as f:
        return MARK in f.read()


def algorithm_classes() -> list[type[GeohazardAlgorithm]]:
    """The plugin's algorithm classes (modules in name order), then the extra families'."""
    from ..engine.families import EXTRA_PREFIX, extra_folders, family_packages

    here = os.path.dirname(os.path.abspath(__file__))
    found: list[type[GeohazardAlgorithm]] = []
    for path in sorted(glob.glob(os.path.join(here, "*.py"))):
        if _marked(path):
            stem = os.path.splitext(os.path.basename(path))[0]
            found += _defined_in(importlib.import_module(f".{stem}", __package__))
    packages = family_packages()
    for folder in extra_folders():
        for stem in sorted(os.listdir(folder)):
            path = os.path.join(folder, stem, "algorithms.py")
            if packages.get(stem) is not None and os.path.isfile(path) and _marked(path):
                found += _defined_in(importlib.import_module(f"{EXTRA_PREFIX}{stem}.algorithms"))
    return found
