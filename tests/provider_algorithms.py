"""The provider's algorithms as the cross-cutting tests parametrise over them: found by the
same scan the provider runs (processing_provider/algorithms.py), so an algorithm or a family
added to the tree, or to a folder of GEOHAZARD_FAMILY_PATH, is checked without editing a list;
and their file outputs and inputs, listed from the provider at collection time."""

from __future__ import annotations

from qgis.core import QgsApplication


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


def provider_outputs() -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """``(algorithm id, file destination parameters, [(input parameter, type)])`` of every
    algorithm of the provider, shipped models included.

    The provider is registered for the moment of the listing (a model's outputs come from its
    child algorithms, found through the registry) and removed again, so that the plugin fixture
    registers its own.
    """
    from geohazard.processing_provider.provider import GeohazardProvider

    registry = QgsApplication.processingRegistry()
    own = registry.providerById("geohazard") is None
    provider = GeohazardProvider() if own else registry.providerById("geohazard")
    if own:
        registry.addProvider(provider)
    found = []
    try:
        for alg_id in [a.id() for a in provider.algorithms()]:
            alg = registry.createAlgorithmById(alg_id)
            outputs = [
                d.name()
                for d in alg.destinationParameterDefinitions()
                if d.type() != "folderDestination"
            ]
            inputs = [
                (d.name(), d.type()) for d in alg.parameterDefinitions() if not d.isDestination()
            ]
            found.append((alg_id, outputs, inputs))
    finally:
        if own:
            registry.removeProvider(provider)
    return found
