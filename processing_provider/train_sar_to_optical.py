"""geohazard:trainsartooptical: fine-tune a SAR-to-optical model on your own SAR/optical areas."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterLayer,
)

from ..engine.families.sar_to_optical import FAMILY as SAR_TO_OPTICAL_FAMILY
from ..engine.families.sar_to_optical.task import FUSIONS
from ..engine.families.sar_to_optical.task import TASK as SAR_TO_OPTICAL_TASK
from .qgis_compat import FILE_FOLDER, set_advanced
from .training_algorithm import TrainingAlgorithm

HELP = """Fine-tunes a SAR-to-optical translation model (SARDINet, Bralet et al. 2022, 2024) \
on your own area: a Sentinel-1 image, a DEM and a cloud-free optical image of the same place, so \
that its optical-like rendering of later SAR images matches your land cover and relief better \
than the bundled model.

<b>SAR</b>, <b>DEM</b> (m) and <b>optical</b> image of one area, optionally a <b>mask</b> \
(non-zero: cloud, snow, unusable) and the Sentinel-2 <b>SCL</b>; or a <b>training folder</b> of \
areas named &lt;name&gt;_sar.tif, &lt;name&gt;_dem.tif, &lt;name&gt;_optical.tif (optionally \
&lt;name&gt;_mask.tif). Every input may be on its own grid and CRS: the DEM, optical, mask and \
SCL are read onto the SAR grid (bilinear; mask and SCL nearest).

<b>SAR</b> (Sentinel-1 GRD sigma0 or RTC gamma0, VV and VH) as downloaded: a SNAP GeoTIFF export \
with both bands (which band is which is read from the band names, Sigma0_VV, Sigma0_VH, in any \
order; bands that name no polarisation are read as band 1 VV, band 2 VH); SNAP's BEAM-DIMAP \
output, choosing Sigma0_VV.img in the product's .data folder; an RTC product of ASF HyP3 or OPERA \
RTC-S1, choosing the ..._VV.tif. A VV file finds its VH twin beside it by the same name with VH; \
<b>SAR_VH</b> names the VH file otherwise. <b>SAR_UNITS</b> (advanced): auto reads linear power, \
dB or amplitude from the names (Sigma0_VV_db; the scale letter of HyP3 names, e.g. gpuned is \
power) or else from the values (dB when most are negative); uncalibrated images and values that \
contradict the units are refused. No data: the files' own no-data value, and 0.

<b>Optical</b> (red, green, blue): one raster whose bands are picked by their names (B04, B03, \
B02 or red, green, blue, in any order; unnamed bands 1-3 are read as red, green, blue), or one \
Sentinel-2 band file (e.g. T32TLR_20230801T103631_B04_10m.jp2, JP2 or GeoTIFF) with the other \
two found beside it by name. 16-bit integer images (Sentinel-2 L2A digital numbers) become \
reflectance, (value + BOA_ADD_OFFSET) / 10000 with the offset (-1000 from processing baseline \
04.00) read from the product's MTD_MSIL2A.xml or .SAFE name, and 0 is no data unless the file \
declares another no-data value. Each band is stretched linearly between its 1st and 99th \
percentiles to 0-1, so any range works.

<b>SCL</b> (the L2A scene classification, 20 m): classes 0 no data, 1 saturated or defective, \
3 cloud shadow, 8 and 9 cloud, 10 thin cirrus and 11 snow or ice are masked (an SCL file given \
as MASK is recognised by its name and read the same way). It is refused with a Level-1C optical \
image or an image of another scene.

Each mismatch stops the run with one sentence: SAR and optical that do not overlap, a missing \
optical band or VH twin, VV and VH that the band names leave ambiguous (or HH/HV), an SCL for a \
non-L2A image, SAR values in the wrong units. The SAR is log-compressed and the DEM divided by \
the maximum elevation exactly as the base model's card says.

<b>Validation share</b>: the area is cut into patches of PATCH_SIZE pixels and that share of \
whole patches (chosen with the seed) is held out. After each epoch the model is measured there \
(MSE of RGB in 0-1) and the best epoch is kept. The card records MSE, SSIM and PSNR globally and \
in foreshortening, layover, shadow and undistorted areas, next to the base model's and a linear \
colour mapping of the SAR bands (fitted on the training patches) on the same patches.

<b>Base model</b>: training starts from its weights ("default": the bundled model of FUSION: \
{models}); the fusion variant (how the DEM enters) is the base model's. <b>Batch size</b> 24 and \
<b>learning rate</b> 1e-5 (Adam) with a masked MAE loss are the paper's values. <b>Epochs</b>: \
one epoch draws, on average, every training pixel once.

<b>Recipe</b> (advanced): PATCH_SIZE 256 px (paper; multiple of 16), MIN_VALID 50% (share of \
valid pixels a patch needs, in percent), SSIM_WEIGHT 0 (the paper's loss, MAE alone; a value \
a in 0-0.99 trains on (1 - a) MAE + a (1 - SSIM), SSIM as in the card's metric, so that a \
rendering whose colours match but whose texture is smoothed away is penalised; 0.84 is the mix \
of Zhao et al. 2017, IEEE Transactions on Computational Imaging 3(1), here with plain rather than \
multi-scale SSIM). The best epoch is still chosen by validation MSE.

<b>Output model</b>: its name; weights and card go to your models folder and the model appears \
by that name in "SAR to optical" (MODEL). An existing model of that name is only replaced when \
<b>Overwrite</b> is ticked. <b>Log</b>: a CSV of the losses per step and validation per epoch; \
validation columns start with val_, the first, val_mse, is the MSE of RGB in 0-1 (lower is \
better); the row of step 0, stage "base model", is the base model. <b>Curves</b>: a PNG of the \
loss and the validation MSE with the base model and the linear colour mapping as lines.

Cancel keeps a checkpoint: run again with the same output model name, data and values to resume. \
A NaN or exploding loss stops training with a message; the last good checkpoint is kept."""


class TrainSarToOpticalAlgorithm(TrainingAlgorithm):
    ALG_NAME = "trainsartooptical"
    DISPLAY_NAME = "Train SAR to optical (fine-tune)"
    GROUP = "Training"
    GROUP_ID = "training"
    HELP = HELP
    TASK = SAR_TO_OPTICAL_TASK
    FAMILY = SAR_TO_OPTICAL_FAMILY
    DEFAULT_OUTPUT = "my_sardinet"
    PRIMARY_LOG_COLUMN = "val_mse"
    TAGS = (
        "training",
        "fine-tuning",
        "deep learning",
        "SAR",
        "optical",
        "Sentinel-1",
        "Sentinel-2",
        "translation",
        "SARDINet",
        "model",
    )

    SAR = "SAR"
    DEM = "DEM"
    OPTICAL = "OPTICAL"
    MASK = "MASK"
    FOLDER = "FOLDER"
    FUSION = "FUSION"
    SAR_VH = "SAR_VH"
    SCL = "SCL"
    SAR_UNITS = "SAR_UNITS"
    UNITS = ("auto", "linear", "db", "amplitude")  # engine names, in the order of the options

    def help_body(self) -> str:
        return self.tr(HELP).replace("{models}", self.models_help())

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802 (QGIS API name)
        for name, label in (
            (self.SAR, self.tr("SAR image (VV and VH, or the VV file of a pair)")),
            (self.DEM, self.tr("DEM (m)")),
            (self.OPTICAL, self.tr("Optical image (red, green, blue)")),
            (self.MASK, self.tr("Mask (non-zero: cloud, snow, unusable)")),
        ):
            self.addParameter(QgsProcessingParameterRasterLayer(name, label, optional=True))
        for name, label in (
            (self.SAR_VH, self.tr("VH image, when SAR is a VV file without its VH twin beside it")),
            (self.SCL, self.tr("Sentinel-2 L2A scene classification (SCL: clouds, snow masked)")),
        ):
            self.addParameter(QgsProcessingParameterRasterLayer(name, label, optional=True))
        self.addParameter(
            set_advanced(
                QgsProcessingParameterEnum(
                    self.SAR_UNITS,
                    self.tr("SAR units"),
                    options=[
                        self.tr("auto"),
                        self.tr("linear power"),
                        self.tr("dB"),
                        self.tr("amplitude"),
                    ],
                    defaultValue=0,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.FOLDER,
                self.tr("Training folder (<name>_sar/_dem/_optical[/_mask].tif)"),
                FILE_FOLDER,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FUSION,
                self.tr("Fusion variant of the default base model"),
                options=list(FUSIONS),
                defaultValue=FUSIONS.index("late"),
            )
        )
        self.add_training_parameters()
        from ..engine.families.sar_to_optical.finetune import SarOpticalRecipe

        self.add_recipe(SarOpticalRecipe)
        self.add_training_outputs()
        self.add_metric_outputs(
            (
                ("MSE", self.tr("Validation MSE of the new model (RGB 0-1)")),
                ("BASE_MSE", self.tr("Validation MSE of the base model (RGB 0-1)")),
                ("LINEAR_MSE", self.tr("Validation MSE of the linear colour mapping (RGB 0-1)")),
                ("SSIM", self.tr("Validation SSIM of the new model")),
                ("BASE_SSIM", self.tr("Validation SSIM of the base model")),
            )
        )

    def areas(self, parameters: dict, context: QgsProcessingContext) -> list[Any]:
        from ..engine.families.sar_to_optical.finetune import SarOpticalArea, area_files

        given = [parameters.get(n) not in (None, "") for n in (self.SAR, self.DEM, self.OPTICAL)]
        units = self.UNITS[self.parameterAsEnum(parameters, self.SAR_UNITS, context)]
        areas = []
        if any(given):
            if not all(given):
                raise QgsProcessingException(
                    self.tr(
                        "Give all three of SAR, DEM and OPTICAL (MASK, SCL and SAR_VH optional), "
                        "or a FOLDER."
                    )
                )
            optional = {
                name: self.raster_file(parameters, name, context)
                if parameters.get(name) not in (None, "")
                else ""
                for name in (self.MASK, self.SAR_VH, self.SCL)
            }
            areas.append(
                SarOpticalArea(
                    self.raster_file(parameters, self.SAR, context),
                    self.raster_file(parameters, self.DEM, context),
                    self.raster_file(parameters, self.OPTICAL, context),
                    optional[self.MASK],
                    sar_vh=optional[self.SAR_VH],
                    scl=optional[self.SCL],
                    sar_units=units,
                )
            )
        folder = self.parameterAsFile(parameters, self.FOLDER, context)
        if folder:
            areas += [replace(a, sar_units=units) for a in area_files(folder)]
        if not areas:
            raise QgsProcessingException(
                self.tr(
                    "Give a training area (SAR, DEM and OPTICAL) or a folder of areas (FOLDER)."
                )
            )
        return areas

    def process(
        self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        from ..engine.families.sar_to_optical.card import BASELINE
        from ..engine.families.sar_to_optical.finetune import (
            SarOpticalRecipe,
            finetune_sar_to_optical,
        )

        areas = self.areas(parameters, context)
        settings = self.finetune_settings(parameters, context, feedback)
        fusion = FUSIONS[self.parameterAsEnum(parameters, self.FUSION, context)]
        recipe = self.recipe(SarOpticalRecipe, parameters, context, fusion=fusion)
        summary = finetune_sar_to_optical(areas, settings, recipe, self.reporter(feedback))
        results = self.training_results(summary, settings, feedback)
        m = summary["metrics"]
        results.update(
            MSE=m["model"]["mse"],
            BASE_MSE=m["base_model"]["mse"],
            LINEAR_MSE=m[BASELINE]["mse"],
            SSIM=m["model"]["ssim"],
            BASE_SSIM=m["base_model"]["ssim"],
        )
        return results
