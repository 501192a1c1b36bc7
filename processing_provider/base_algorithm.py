"""Shared base for Geohazard algorithms: names, help, icon, translation, engine error mapping."""

from __future__ import annotations

import os
from typing import Any, Callable, TypeVar

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..dependencies.requirements import DEFAULT_MODULES, missing_message, missing_modules
from ..engine.core.run_options import DEVICE_CHOICES, RunOptions
from .citations import Citation
from .help_text import compose_help, help_url, plugin_dir
from .output_paths import output_clash, output_format_problem
from .parameter_checks import check_values
from .qgis_compat import set_advanced
from .styling import write_sidecars

T = TypeVar("T")


def plugin_icon_path() -> str:
    return os.path.join(plugin_dir(), "icons", "geohazard.svg")


class GeohazardAlgorithm(QgsProcessingAlgorithm):
    """Base class: subclasses set the class attributes and implement initAlgorithm/process."""

    ALG_NAME = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    HELP = ""
    # Words the toolbox search matches (besides the name): hazards, data and methods.
    TAGS: tuple[str, ...] = ()
    # Papers and methods the algorithm follows, listed under "References" in its help.
    CITATIONS: tuple[Citation, ...] = ()
    # Section of the README (GitHub heading anchor) behind the dialog's Help button.
    HELP_ANCHOR = ""
    # Python modules the algorithm imports when it runs; checked (not imported) by canExecute.
    REQUIRES: tuple[str, ...] = DEFAULT_MODULES
    # What to change when a run runs out of memory, in this algorithm's own parameters.
    MEMORY_ADVICE = "clip the inputs to the area of interest"

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    def createInstance(self) -> GeohazardAlgorithm:  # noqa: N802 (QGIS API name)
        return type(self)()

    def name(self) -> str:
        return self.ALG_NAME

    def displayName(self) -> str:  # noqa: N802 (QGIS API name)
        return self.tr(self.DISPLAY_NAME)

    def group(self) -> str:
        return self.tr(self.GROUP)

    def groupId(self) -> str:  # noqa: N802 (QGIS API name)
        return self.GROUP_ID

    def help_body(self) -> str:
        """The algorithm's own help text (subclasses may fill in live values)."""
        return self.tr(self.HELP)

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API name)
        return compose_help(
            self.help_body(),
            self.parameterDefinitions(),
            self.CITATIONS,
            self.tr,
            self.outputDefinitions(),
        )

    def tags(self) -> list[str]:
        return [self.tr(t) for t in self.TAGS]

    def helpUrl(self) -> str:  # noqa: N802 (QGIS API name)
        return help_url(self.HELP_ANCHOR)

    def icon(self) -> QIcon:
        return QIcon(plugin_icon_path())

    def canExecute(self) -> tuple[bool, str]:  # noqa: N802 (QGIS API name)
        """False, with a message naming the missing packages, when a dependency is absent."""
        missing = missing_modules(self.REQUIRES)
        return (not missing, missing_message(missing))

    # --- shared parameters -------------------------------------------------------------

    def add_device_parameter(self, name: str = "DEVICE") -> None:
        param = QgsProcessingParameterEnum(
            name,
            self.tr(
                "Device (auto: as set in Plugins > Geohazard > Device settings; by default a "
                "CUDA GPU when torch sees one, else the CPU)"
            ),
            options=list(DEVICE_CHOICES),
            defaultValue=0,
        )
        self.addParameter(set_advanced(param))

    def run_options(
        self,
        parameters: dict,
        context: QgsProcessingContext,
        feedback: QgsProcessingFeedback,
        name: str = "DEVICE",
    ) -> RunOptions:
        """This run's options: the DEVICE parameter (``auto`` defers to the device settings
        page), and mixed precision and the GPU memory cap from that page."""
        from ..engine.core.errors import GeohazardError
        from ..engine.core.memory_cap import parse_memory_cap
        from ..settings import load_device_settings

        settings = load_device_settings()
        try:
            cap = parse_memory_cap(settings.memory_cap)
        except GeohazardError as exc:
            feedback.reportError(self.tr("{error} Running without a cap.").format(error=exc), False)
            cap = None
        choice = DEVICE_CHOICES[self.parameterAsEnum(parameters, name, context)]
        device = (settings.device or "auto") if choice == "auto" else choice
        feedback.pushInfo(
            self.tr(
                "Device settings: device {device} (used when DEVICE is auto), mixed precision "
                "{mp}, GPU memory cap {cap}."
            ).format(
                device=settings.device,
                mp=self.tr("on") if settings.mixed_precision else self.tr("off"),
                cap=cap if cap is not None else self.tr("none"),
            )
        )
        return RunOptions(device=device, mixed_precision=settings.mixed_precision, memory_cap=cap)

    def raster_file(self, parameters: dict, name: str, context: QgsProcessingContext) -> str:
        """The file path behind a raster parameter; refuses layers that are not local files."""
        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None or not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            raise QgsProcessingException(
                self.tr(
                    "{name}: could not load the raster (missing, corrupt or unsupported file)."
                ).format(name=name)
            )
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                self.tr(
                    "{name}: '{layer}' is not a file-based raster (provider {provider}); save it "
                    "as a GeoTIFF first."
                ).format(name=name, layer=layer.name(), provider=layer.providerType())
            )
        path = layer.source().split("|")[0]
        return path

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802
        """One clear sentence for a bad value (see parameter_checks) or for an output that
        would overwrite an input or another output (see output_paths), before QGIS's own check.

        Raster inputs given as file paths are loaded here, once, without GDAL's auxiliary
        ``.aux.xml`` files (see :func:`load_input_raster`), and kept in the context so that
        QGIS's own checks and ``parameterAsRasterLayer`` reuse them instead of loading them
        again (which would write statistics beside the user's inputs).
        """
        message = (
            check_values(self, parameters, context, self.tr)
            or output_clash(self, parameters, context, self.tr)
            or output_format_problem(self, parameters, context, self.tr)
        )
        if message:
            return False, message
        return super().checkParameterValues(parameters, context)

    # --- running the engine ----------------------------------------------------------

    def reporter(self, feedback: QgsProcessingFeedback):  # type: ignore[no-untyped-def]
        """An engine Reporter that forwards progress, cancel and messages to QGIS feedback."""
        from ..engine.core.progress import Reporter

        # one line per fact: a message the run already logged (the device, chosen by both the
        # estimate and the run) is not repeated; this instance serves one run
        said: set[str] = self.__dict__.setdefault("_logged", set())

        def once(push: Callable[[str], None]) -> Callable[[str], None]:
            def log(message: str) -> None:
                if message not in said:
                    said.add(message)
                    push(message)

            return log

        return Reporter(
            progress=lambda f: feedback.setProgress(100.0 * f),
            is_canceled=feedback.isCanceled,
            info=once(feedback.pushInfo),
            warning=once(getattr(feedback, "pushWarning", feedback.reportError)),
        )

    def run_engine(self, call: Callable[[], T]) -> T:
        """Run an engine call, turning its errors into QgsProcessingException messages."""
        from ..engine.core.errors import GeohazardError

        try:
            return call()
        except GeohazardError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except MemoryError as exc:
            raise QgsProcessingException(
                self.tr("Out of memory; {advice}.").format(advice=self.tr(self.MEMORY_ADVICE))
            ) from exc

    def processAlgorithm(  # noqa: N802 (QGIS API name)
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)
        self.check_outputs_distinct(parameters, context)
        results = self.run_engine(lambda: self.process(parameters, context, feedback))
        write_sidecars(results.values(), feedback)
        return results

    def check_outputs_distinct(self, parameters: dict, context: QgsProcessingContext) -> None:
        """Refuse a run whose output would overwrite an input or another output of the run."""
        message = output_clash(self, parameters, context, self.tr)
        if message:
            raise QgsProcessingException(message)

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        raise QgsProcessingException("Algorithm subclasses implement process().")
