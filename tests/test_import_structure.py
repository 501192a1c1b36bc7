"""The plugin's modules import each other without cycles, and its layers keep their direction:
ui/ never imports processing_provider/, engine/ never imports the QGIS side."""

from __future__ import annotations

from pathlib import Path

from import_graph import cycles, import_graph, plugin_modules, sibling_graph

ROOT = Path(__file__).resolve().parents[1]


def _graph() -> dict[str, set[str]]:
    return import_graph(plugin_modules(ROOT))


def test_no_import_cycles_between_modules():
    assert cycles(_graph()) == []


def test_no_cycles_between_sibling_modules_and_packages():
    # e.g. engine/sample_data.py importing engine/superres/ while engine/superres/ imports it
    assert cycles(sibling_graph(_graph())) == []


def test_ui_never_imports_processing_provider():
    graph = _graph()
    bad = {
        f"{src} -> {dst}"
        for src, targets in graph.items()
        if src == "ui" or src.startswith("ui.")
        for dst in targets
        if dst == "processing_provider" or dst.startswith("processing_provider.")
    }
    assert bad == set()


def test_engine_imports_only_engine():
    graph = _graph()
    bad = {
        f"{src} -> {dst}"
        for src, targets in graph.items()
        if src.startswith("engine")
        for dst in targets
        if not dst.startswith("engine")
    }
    assert bad == set()


def test_graph_sees_the_cycles_it_must_refuse(tmp_path):
    """The check would fail on the two cycles the plugin had: a module pair through a
    TYPE_CHECKING import, and a module and a sibling package through a lazy import."""
    files = {
        "__init__.py": "",
        "engine/__init__.py": "",
        "engine/offsets/__init__.py": "",
        "engine/offsets/combine.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from .tracking import PixelOffsets\n"
        ),
        "engine/offsets/tracking.py": "from .combine import combine_sizes\n",
        "engine/sample_data.py": "def f():\n    from .superres.degrade import block_mean\n",
        "engine/superres/__init__.py": "",
        "engine/superres/degrade.py": "import numpy\n",
        "engine/superres/recipe.py": "from ..sample_data import block\n",
        "ui/__init__.py": "",
        "ui/menu.py": "from geohazard.processing_provider import provider\n",
        "processing_provider/__init__.py": "",
        "processing_provider/provider.py": "from ..engine import sample_data\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_graph(plugin_modules(tmp_path))
    assert cycles(graph) == [["engine.offsets.combine", "engine.offsets.tracking"]]
    assert ["engine.sample_data", "engine.superres"] in cycles(sibling_graph(graph))
    assert graph["ui.menu"] == {"processing_provider.provider"}
    assert graph["processing_provider.provider"] == {"engine.sample_data"}
