"""Running algorithms as the QGIS dialog does: outputs registered for loading, then loaded and
styled by QGIS's own post-processing (processing.gui.Postprocessing.handleAlgorithmResults)."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
)


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps every message a run writes to the log."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []
        self.messages: list[str] = []

    def reportError(self, error: str, fatalError: bool = False) -> None:  # noqa: N802, N803
        self.errors.append(error)
        super().reportError(error, fatalError)

    def pushWarning(self, warning: str) -> None:  # noqa: N802
        self.messages.append(warning)
        super().pushWarning(warning)

    def pushInfo(self, info: str) -> None:  # noqa: N802
        self.messages.append(info)
        super().pushInfo(info)


def to_load(path: str = QgsProcessing.TEMPORARY_OUTPUT) -> QgsProcessingOutputLayerDefinition:
    """An output the dialog opens when done ("[Save to temporary file]" by default)."""
    return QgsProcessingOutputLayerDefinition(path, QgsProject.instance())


def run_and_load(alg, params: dict) -> tuple[dict, dict[str, str], RecordingFeedback]:  # type: ignore[no-untyped-def]
    """Run ``alg`` and load its outputs as the dialog does; returns the results, the outputs
    registered for loading (path -> layer name before loading) and the feedback. Fails when
    QGIS reports that a registered layer was not generated."""
    import processing
    from processing.gui.Postprocessing import handleAlgorithmResults

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = RecordingFeedback()
    results = processing.run(alg, params, context=context, feedback=feedback)
    registered = {p: d.name for p, d in context.layersToLoadOnCompletion().items()}
    assert handleAlgorithmResults(alg, context, feedback), feedback.errors
    assert not [e for e in feedback.errors if "not correctly generated" in e], feedback.errors
    return results, registered, feedback


def loaded_layer(path: str):  # type: ignore[no-untyped-def]
    """The project layer whose source is ``path``."""
    for layer in QgsProject.instance().mapLayers().values():
        if layer.source() == path:
            return layer
    raise AssertionError(f"{path} was not loaded")
