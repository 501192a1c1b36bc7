"""The plugin loads and unloads in a real QGIS and registers its provider and algorithms."""

from __future__ import annotations

import configparser
from pathlib import Path

from qgis.core import QgsApplication

ROOT = Path(__file__).resolve().parents[1]


def test_metadata_is_complete() -> None:
    meta = configparser.ConfigParser()
    meta.read(ROOT / "metadata.txt")
    general = meta["general"]
    for key in (
        "name",
        "description",
        "about",
        "version",
        "qgisMinimumVersion",
        "author",
        "email",
        "homepage",
        "tracker",
        "repository",
        "tags",
        "hasProcessingProvider",
        "icon",
    ):
        assert general.get(key), key
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["qgisMaximumVersion"] == "4.99"  # QGIS 4 (Qt6) loads it
    assert "supportsQt6" not in general  # obsolete key: QGIS 4 reads qgisMaximumVersion
    assert general["hasProcessingProvider"] == "yes"
    assert (ROOT / general["icon"]).exists()


def test_load_lists_algorithms_and_unload_removes_provider(plugin) -> None:
    registry = QgsApplication.processingRegistry()
    plugin.unload()  # start from a QGIS without the plugin, whatever ran before
    assert registry.providerById("geohazard") is None
    import geohazard

    plug = geohazard.classFactory(None)
    plug.initProcessing()
    provider = registry.providerById("geohazard")
    assert provider is not None
    ids = {alg.id() for alg in provider.algorithms()}
    assert "geohazard:offsettracking" in ids
    alg = registry.algorithmById("geohazard:offsettracking")
    assert alg.shortHelpString()
    names = [p.name() for p in alg.parameterDefinitions()]
    for name in (
        "REFERENCE",
        "SECONDARY",
        "BAND",
        "WINDOW_SIZES",
        "STEP",
        "SEARCH",
        "DEVICE",
        "OUTPUT",
    ):
        assert name in names
    plug.unload()
    assert registry.providerById("geohazard") is None
    assert registry.algorithmById("geohazard:offsettracking") is None
    plugin.initProcessing()  # leave the session's plugin loaded for the other tests
    assert registry.providerById("geohazard") is not None
