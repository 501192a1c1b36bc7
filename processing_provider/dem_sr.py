"""geohazard:demsuperresolution: ESRGAN-style super-resolution of a DEM by 2 or 4."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.dem_sr import FAMILY as DEM_SR_FAMILY
from ..engine.families.dem_sr.task import SCALES, SPLINE
from ..engine.families.dem_sr.task import TASK as DEM_SR_TASK
from .model_algorithm import ModelAlgorithm
from .output_styles import DEM
from .qgis_compat import INTEGER
from .styling import LayerStyle

HELP = """Sharpens a DEM (e.g. a 30 or 90 m SRTM) by a factor of 2 or 4 with a \
residual-in-residual dense network (ESRGAN generator). \
The bundled x2 and x4 learned from real DEMs of hills and mountains (10-90 m) and fractal \
terrain. Their model cards compare them, on DEMs of other regions never used in training, \
with the cubic spline with back-projection (MODEL=spline below): both scales are better in \
elevation and slope error on hills and mountains (by 2% to 13%) and at x2 on 1 m farmland, \
but not on a 30 m city DEM (Rome; 1.3-3.2% worse), nor at x4 on 1 m farmland (elevation \
0.4% worse), nor at x2 on a gentle coast (slope error); on very smooth (oversampled) DEMs the \
spline is better than both. Check them with "Evaluate DEM" where a reference exists (its \
low-resolution input adds the spline to the comparison), or fine-tune on your own DEMs. Both \
predict a correction to the spline, so they add no visible texture with the period of the \
scale factor to hillshades (docs/dem_super_resolution.md).

<b>Input DEM</b>: one band of elevations in metres, in any CRS (projected or geographic). \
Nodata holes stay nodata in the output and do not drag nearby elevations down.

<b>Scale</b>: 2 or 4. The output covers the same extent in the same CRS with the pixel size \
divided by the scale; float32 metres.

<b>Model</b>: "default" uses the bundled model for the chosen scale ({models}); or give the name \
of a bundled model or of one of your own (kept in the QGIS profile's geohazard/models folder, \
where training writes), or the path to a .safetensors weights file with its JSON model card beside \
it (for instance one fine-tuned on your own DEMs). A model trained for x2 cannot run at x4. \
Pickle-based weights (.pth, .pt) are refused because loading them can run code. \
"spline" (a reserved name) runs no network: a cubic spline whose every output block of \
SCALE x SCALE pixels averages exactly to its input pixel (spline with back-projection), the \
strongest classical method we measured, clearly better than gdalwarp -r cubic and free of \
texture in hillshades; compare it with a model on your own DEM with "Evaluate DEM".

<b>Tile size</b> and <b>overlap</b> (input pixels, advanced): the DEM is processed in \
overlapping tiles of this size, blended so that no seam shows, so a raster of any size runs in \
bounded memory. Defaults {tile} and {overlap} (the bundled models need 12 pixels of context on \
each side; the rest leaves room for blending). {tile} was the fastest tile size on a CPU; on a \
GPU larger tiles (512-1024) repeat less work in the overlaps. On a GPU that runs out of memory, \
the tile size is halved automatically. <b>Tiles per batch</b> (advanced): 0 runs one tile at a \
time on the CPU and four on a GPU. <b>Device</b>: auto uses a CUDA GPU when available, else the \
CPU; mixed precision (bf16/fp16) is switched on in Plugins > Geohazard > Device settings.

The bundled models were trained on offline data only; their model cards (models/*.json) give \
their accuracy on held-out real DEMs of several terrain kinds against the spline with \
back-projection, GDAL cubic and nearest-neighbour interpolation."""


class DemSuperResolutionAlgorithm(ModelAlgorithm):
    ALG_NAME = "demsuperresolution"
    DISPLAY_NAME = "DEM super-resolution (ESRGAN)"
    GROUP = "DEM"
    GROUP_ID = "dem"
    HELP = HELP
    TASK = DEM_SR_TASK
    FAMILY = DEM_SR_FAMILY
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

    MEMORY_ADVICE = "use a smaller TILE_SIZE, or clip the DEM to the area of interest"

    INPUT = "INPUT"
    SCALE = "SCALE"
    OUTPUT = "OUTPUT"

    def model_names(self) -> list[str]:
        """The task's models, then the classical ``spline`` method (a reserved name)."""
        return [*super().model_names(), SPLINE]

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
                INTEGER,
                4,
                minValue=min(SCALES),
                maxValue=max(SCALES),
            )
        )
        self.add_model_parameters()
        self.addParameter(
            QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Super-resolved DEM"))
        )

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext):  # noqa: N802 (QGIS API name)
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:  # NaN, out of range, missing input: the shared sentence first
            return ok, message
        scale = self.parameterAsInt(parameters, self.SCALE, context)
        if scale not in SCALES:
            return False, self.tr("SCALE must be 2 or 4, not {scale}.").format(scale=scale)
        return True, ""

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.dem_sr.task import SuperResolutionConfig, super_resolve_dem

        dem = self.raster_file(parameters, self.INPUT, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        config = SuperResolutionConfig(
            scale=self.parameterAsInt(parameters, self.SCALE, context),
            model=self.model_choice(parameters, context),
            tiles=self.tile_settings(parameters, context),
        )
        summary = super_resolve_dem(
            dem,
            output,
            config,
            self.run_options(parameters, context, feedback),
            self.reporter(feedback),
            user_models=self.store().user_dir,
        )
        self.model_summary(summary, feedback)
        LayerStyle.attach(context, output, self.tr("DEM x{scale}").format(scale=config.scale), DEM)
        return {self.OUTPUT: output}
