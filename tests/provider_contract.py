"""The provider's public contract read from the live registry: every algorithm's parameters
(name, type, default, range, options, flags) and outputs (name, type).

``tests/data/provider_contract.json`` holds the contract as released; ``test_provider_contract``
compares the live provider with it. After a deliberate change of the contract, rewrite the file
with ``GEOHAZARD_WRITE_FIXTURES=1 scripts/test.sh tests/test_provider_contract.py`` and say why
in the commit.
"""

from __future__ import annotations

import math
from typing import Any


def _plain(value: Any) -> Any:
    """A JSON-able form of a parameter default (QVariant nulls, enums, floats)."""
    if value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    try:
        from qgis.PyQt.QtCore import QVariant

        if isinstance(value, QVariant):
            return None if value.isNull() else _plain(value.value())
    except ImportError:  # pragma: no cover
        pass
    return repr(value)


def parameter_contract(p: Any) -> dict[str, Any]:
    """What a caller relies on for one parameter definition."""
    entry: dict[str, Any] = {
        "type": p.type(),
        "default": _plain(p.defaultValue()),
        "optional": bool(p.flags() & p.FlagOptional),
        "advanced": bool(p.flags() & p.FlagAdvanced),
    }
    kind = p.type()
    if kind == "number":
        entry.update(data_type=int(p.dataType()), min=_plain(p.minimum()), max=_plain(p.maximum()))
    elif kind == "enum":
        entry.update(options=list(p.options()), multiple=bool(p.allowMultiple()))
    elif kind in ("file", "fileDestination"):
        entry["filter"] = p.fileFilter()
    elif kind == "band":
        entry["parent"] = p.parentLayerParameterName()
    elif kind == "multilayer":
        entry["layer_type"] = int(p.layerType())
    elif kind == "vector":
        entry["layer_types"] = [int(t) for t in p.dataTypes()]
    return entry


def algorithm_contract(alg: Any) -> dict[str, Any]:
    params = alg.parameterDefinitions()
    return {
        "order": [p.name() for p in params],
        "parameters": {p.name(): parameter_contract(p) for p in params},
        "outputs": {o.name(): o.type() for o in alg.outputDefinitions()},
    }


def provider_contract() -> dict[str, Any]:
    """Every algorithm of the ``geohazard`` provider by id, sorted."""
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    ids = sorted(a.id() for a in registry.providerById("geohazard").algorithms())
    # fresh instances, as processing.run makes them: a shipped graphical model then has the
    # outputs of its child algorithms whether or not they were registered before it
    return {i: algorithm_contract(registry.createAlgorithmById(i)) for i in ids}
