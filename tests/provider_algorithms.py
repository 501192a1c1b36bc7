"""The Geohazard provider's algorithms as the tests see them, discovered from the provider itself
(at collection time, so that tests can be parametrised over every algorithm and output)."""

from __future__ import annotations

from qgis.core import QgsApplication


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
