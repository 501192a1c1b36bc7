"""The provider's algorithms as the cross-cutting tests parametrise over them: found by the
same scan the provider runs (processing_provider/algorithms.py), so an algorithm or a family
added to the tree, or to a folder of GEOHAZARD_FAMILY_PATH, is checked without editing a list."""

from __future__ import annotations


def algorithm_ids() -> list[str]:
    """The ids (without ``geohazard:``) of every algorithm class the provider registers."""
    from geohazard.processing_provider.algorithms import algorithm_classes

    return [c.ALG_NAME for c in algorithm_classes()]


def provider_ids() -> list[str]:
    """The algorithm ids and the shipped graphical models' ids."""
    import os

    from geohazard.processing_provider.shipped_models import shipped_model_paths

    models = [
        os.path.splitext(os.path.basename(p))[0].replace("_", "") for p in shipped_model_paths()
    ]
    return algorithm_ids() + models
