"""The demo's map: a QGIS project (.qgz) with every output styled, and a map PNG with a legend
exported through QGIS's own print layout.

    write_project_and_map(folder, [(path, kind), ...], title)

``kind`` names the style the plugin gives that output when Processing loads it (a key of
processing_provider/output_styles.py's BY_KIND): "dem" (hillshade), "displacement" (magnitude
ramp, transparent where the ground is still), "velocity", "distortion" (classes), "rgb",
"landslides", "arrows". Layers are listed top first; the map shows the DEM, the displacement,
the landslide areas and the arrows (the top layer of each kind), the project holds every layer.
"""

from __future__ import annotations

import os

from qgis.core import (
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsMapLayer,
    QgsPrintLayout,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize


def _style(layer: QgsMapLayer, kind: str) -> None:
    """The style the plugin gives this kind of output when Processing loads it (the same QML
    files and data fit: processing_provider/output_styles.py)."""
    from geohazard.processing_provider.output_styles import BY_KIND
    from geohazard.processing_provider.styling import apply_styles

    apply_styles(layer, BY_KIND[kind])


def _legend_title(project: QgsProject, layer: QgsMapLayer, kind: str) -> None:
    """The legend says what the layer is, as when Processing loads it."""
    from geohazard.processing_provider.output_styles import BY_KIND
    from geohazard.processing_provider.styling import set_legend_title

    set_legend_title(project.layerTreeRoot(), layer, BY_KIND[kind][0])


def write_project_and_map(
    folder: str, layers: list[tuple[str, str, str]], title: str
) -> tuple[str, str]:
    """Write ``folder/geohazard_demo.qgz`` and ``folder/geohazard_map.png``.

    Args:
        folder: output folder.
        layers: (path, layer name, style kind) top layer first.
        title: the map title.

    Returns:
        Paths of the project and the PNG.
    """
    project = QgsProject.instance()
    project.clear()
    loaded = []
    for path, name, kind in reversed(layers):
        is_vector = path.endswith(".gpkg")
        layer: QgsMapLayer = (
            QgsVectorLayer(path, name, "ogr") if is_vector else QgsRasterLayer(path, name, "gdal")
        )
        if not layer.isValid():
            raise RuntimeError(f"{path} could not be loaded")
        _style(layer, kind)
        project.addMapLayer(layer)
        _legend_title(project, layer, kind)
        loaded.append(layer)
    project.setCrs(loaded[0].crs())
    extent = QgsRectangle(loaded[0].extent())
    for layer in loaded[1:]:
        extent.combineExtentWith(layer.extent())
    qgz = os.path.join(folder, "geohazard_demo.qgz")
    png = os.path.join(folder, "geohazard_map.png")
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()  # one A4 landscape page
    layout.setName("Geohazard map")
    item = QgsLayoutItemMap(layout)
    item.attemptMove(QgsLayoutPoint(8, 18, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    item.attemptResize(QgsLayoutSize(200, 170, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    # the map shows the top layer of each of these kinds (e.g. the classical displacement, not
    # the deep tracker's below it); the project holds every layer
    shown_kinds, on_map = {"dem", "displacement", "landslides", "arrows"}, []
    for layer, (_, _, kind) in zip(reversed(loaded), layers):
        if kind in shown_kinds and kind not in {k for _, k in on_map}:
            on_map.append((layer, kind))
    item.setLayers([layer for layer, _ in on_map])
    item.setKeepLayerSet(True)
    # setExtent fits the item to the extent's shape, so give the extent the item's shape first
    ratio = 200.0 / 170.0
    if extent.width() / extent.height() < ratio:
        grow = extent.height() * ratio / extent.width()
        extent = QgsRectangle(
            extent.center().x() - extent.width() * grow / 2,
            extent.yMinimum(),
            extent.center().x() + extent.width() * grow / 2,
            extent.yMaximum(),
        )
    else:
        grow = extent.width() / ratio / extent.height()
        extent = QgsRectangle(
            extent.xMinimum(),
            extent.center().y() - extent.height() * grow / 2,
            extent.xMaximum(),
            extent.center().y() + extent.height() * grow / 2,
        )
    item.setExtent(extent)
    item.setFrameEnabled(True)
    layout.addLayoutItem(item)
    label = QgsLayoutItemLabel(layout)
    label.setText(title)
    font = label.font()
    font.setPointSize(16)
    label.setFont(font)
    label.attemptMove(QgsLayoutPoint(8, 6, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    label.attemptResize(QgsLayoutSize(270, 10, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    layout.addLayoutItem(label)
    legend = QgsLayoutItemLegend(layout)
    legend.setLinkedMap(item)
    legend.setTitle("Legend")
    legend.setAutoUpdateModel(False)  # the legend lists only the layers the map shows
    root = legend.model().rootGroup()
    mapped = {id(layer) for layer, _ in on_map}
    for layer in reversed(loaded):
        if id(layer) not in mapped:
            root.removeLayer(layer)
    legend.attemptMove(QgsLayoutPoint(212, 18, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    layout.addLayoutItem(legend)
    bar = QgsLayoutItemScaleBar(layout)
    bar.setLinkedMap(item)
    bar.applyDefaultSize()
    bar.attemptMove(QgsLayoutPoint(8, 192, QgsUnitTypes.LayoutUnit.LayoutMillimeters))
    layout.addLayoutItem(bar)
    project.layoutManager().addLayout(layout)
    # the page rendered to an image and saved as a plain PNG: exportToImage would also try to
    # georeference the PNG in place, which GDAL's PNG driver refuses with an ERROR 6 message
    image = QgsLayoutExporter(layout).renderPageToImage(0, QSize(), 100)
    if image.isNull() or not image.save(png, "PNG"):
        raise RuntimeError(f"The map could not be written to {png}.")
    if not project.write(qgz):
        raise RuntimeError(f"The project could not be written to {qgz}.")
    return qgz, png
