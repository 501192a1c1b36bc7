"""geohazard:demsuperresolution: ESRGAN-style super-resolution of a DEM by 2 or 4."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base_algorithm import GeohazardAlgorithm
from .citations import ESRGAN, ESRGAN_DEM
from .dem_styling import hillshade
from .parameter_checks import set_unit
from .styling import LayerStyle

DEFAULT_MODEL = "default"

HELP = """Sharpens a DEM (e.g. a 30 or 90 m SRTM) by a factor of 2 or 4 with a residual-in-residual \
dense network (ESRGAN generator) trained in two stages: natural grayscale images, then DEMs. \
The bundled models learned from 3 arc-second (about 90 m) ridge-and-valley terrain and simulated \
fractal terrain; on other landscapes or resolutions, check them with "Evaluate DEM" where a \
reference exists, or fine-tune on your own DEMs. Like bicubic interpolation, whose correction \
they predict, they leave a faint texture with the period of the scale factor in hillshades of \
very smooth (oversampled) DEMs, weaker than bicubic's.

<b>Input DEM</b>: one band of elevations in metres, in any CRS (projected or geographic). \
Nodata holes stay nodata in the output and do not drag nearby elevations down.

<b>Scale</b>: 2 or 4. The output covers the same extent in the same CRS with the pixel size \
divided by the scale; float32 metres.

<b>Model</b>: "default" uses the bundled model for the chosen scale ({models}); or give the name \
of a bundled model, or the path to a .safetensors weights file with its JSON model card beside \
it (for instance one fine-tuned on your own DEMs). A model trained for x2 cannot run at x4. \
Pickle-based weights (.pth, .pt) are refused because loading them can run code.

<b>Tile size</b> and <b>overlap</b> (input pixels, advanced): the DEM is processed in \
overlapping tiles of this size, blended so that no seam shows, so a raster of any size runs in \
bounded memory. Defaults 256 and 32 (the bundled models need 12 pixels of context on each side; 32 leaves room for blending). 256 was the fastest tile size on a CPU; on a GPU larger tiles (512-1024) repeat less work in the overlaps. On a GPU that runs out of memory, the tile size is halved \
automatically. <b>Device</b>: auto uses a CUDA GPU when available, else the CPU; mixed precision (bf16/fp16) is switched on in Plugins > Geohazard > Device settings.

The bundled models were trained on offline data only; their model cards (models/*.json) give \
their accuracy on a held-out real DEM against bicubic and nearest-neighbour interpolation."""


def _bundled_names() -> str:
    try:
        from ..engine.superres.model_store import bundled_models

        return ", ".join(bundled_models()) or "none installed"
    except Exception:  # noqa: BLE001 (torch missing: the help text still shows)
        return "dem_sr_x2, dem_sr_x4"


class DemSuperResolutionAlgorithm(GeohazardAlgorithm):
    ALG_NAME = "demsuperresolution"
    DISPLAY_NAME = "DEM super-resolution (ESRGAN)"
    GROUP = "DEM"
    GROUP_ID = "dem"
    HELP = HELP
    TAGS = (
        "DEM",
        "elevation",
        "terrain",
        "super-resolution",
        "upsampling",
        "resolution",
        "ESRGAN",
        "deep learning",
        "SRTM",
        "InSAR",
        "landslide",
        "hillshade",
    )
    CITATIONS = (ESRGAN_DEM, ESRGAN)
    HELP_ANCHOR = "dem-super-resolution-geohazarddemsuperresolution-evaluatedem-topographicphase"

    REQUIRES = ("numpy", "torch", "rasterio", "safetensors", "scipy")

    INPUT = "INPUT"
    SCALE = "SCALE"
    MODEL = "MODEL"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    DEVICE = "DEVICE"
    OUTPUT = "OUTPUT"

    def help_body(self) -> str:
        return self.tr(HELP).replace("{models}", _bundled_names())

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.INPUT, self.tr("Input DEM (elevations in metres)")
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                self.SCALE,
                self.tr("Scale factor (2 or 4)"),
                QgsProcessingParameterNumber.Integer,
                4,
                minValue=2,
                maxValue=4,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.MODEL,
                self.tr("Model: 'default', a bundled model name, or a .safetensors file"),
                DEFAULT_MODEL,
            )
        )
        tile = QgsProcessingParameterNumber(
            self.TILE_SIZE,
            self.tr("Tile size (input pixels)"),
            QgsProcessingParameterNumber.Integer,
            256,
            minValue=16,
            maxValue=8192,
        )
        overlap = QgsProcessingParameterNumber(
            self.OVERLAP,
            self.tr("Tile overlap (input pixels)"),
            QgsProcessingParameterNumber.Integer,
            32,
            minValue=0,
            maxValue=2048,
        )
        for p in (tile, overlap):
            p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(set_unit(p, "px"))
        self.add_device_parameter(self.DEVICE)
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved DEM"))
        )

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802 (QGIS API name)
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            return ok, message
        scale = self.parameterAsInt(parameters, self.SCALE, context)
        if scale not in (2, 4):
            return False, self.tr("SCALE must be 2 or 4, not {scale}.").format(scale=scale)
        return True, ""

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.superres.inference import SuperResolutionConfig, super_resolve_dem

        dem = self.raster_file(parameters, self.INPUT, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        model = self.parameterAsString(parameters, self.MODEL, context).strip()
        config = SuperResolutionConfig(
            scale=self.parameterAsInt(parameters, self.SCALE, context),
            model="" if model in ("", DEFAULT_MODEL) else model,
            tile_size=self.parameterAsInt(parameters, self.TILE_SIZE, context),
            overlap=self.parameterAsInt(parameters, self.OVERLAP, context),
            device=self.device_choice(parameters, context, self.DEVICE),
        )
        super_resolve_dem(dem, output, config, self.reporter(feedback))
        LayerStyle.attach(
            context, output, self.tr("DEM x{scale}").format(scale=config.scale), hillshade
        )
        return {self.OUTPUT: output}
