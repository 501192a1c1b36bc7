"""Legend titles say what the layer is: "Displacement magnitude (m)", not QGIS's band name
"Band 3: magnitude (m)"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from processing_runs import loaded_layer, run_and_load, to_load
from sar_pairs import write_pair


def test_displacement_legend_title_names_the_layer(plugin, tmp_path: Path) -> None:
    from qgis.core import QgsApplication, QgsLayerTreeModel, QgsProject
    from qgis.PyQt.QtCore import Qt

    shape = (128, 128)
    reference, secondary = write_pair(tmp_path, np.zeros(shape), np.ones(shape))
    out = str(tmp_path / "d.tif")
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:offsettracking")
    run_and_load(alg, {"REFERENCE": reference, "SECONDARY": secondary, "OUTPUT": to_load(out)})
    layer = loaded_layer(out)
    root = QgsProject.instance().layerTreeRoot()
    model = QgsLayerTreeModel(root)
    nodes = model.layerLegendNodes(root.findLayer(layer.id()))
    titles = [n.data(Qt.ItemDataRole.DisplayRole) for n in nodes]
    assert titles and titles[0] == "Displacement magnitude (m)", titles
    assert not [t for t in titles if t and str(t).startswith("Band ")], titles
