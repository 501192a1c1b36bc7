"""The ``geohazard`` Processing provider: a short list of algorithms."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .base_algorithm import plugin_icon_path


class GeohazardProvider(QgsProcessingProvider):
    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS API name)
        from .deep_offset_tracking import DeepOffsetTrackingAlgorithm
        from .dem_super_resolution import DemSuperResolutionAlgorithm
        from .displacement_arrows import DisplacementArrowsAlgorithm
        from .displacement_time_series import DisplacementTimeSeriesAlgorithm
        from .evaluate_dem import EvaluateDemAlgorithm
        from .landslide_areas import LandslideAreasAlgorithm
        from .offset_tracking import OffsetTrackingAlgorithm
        from .sar_distortion import SarDistortionAlgorithm
        from .sar_to_optical import SarToOpticalAlgorithm
        from .topographic_phase import TopographicPhaseAlgorithm
        from .train_deep_offset_tracking import TrainDeepOffsetTrackingAlgorithm
        from .train_dem_super_resolution import TrainDemSuperResolutionAlgorithm
        from .train_sar_to_optical import TrainSarToOpticalAlgorithm

        for alg in (
            OffsetTrackingAlgorithm(),
            DeepOffsetTrackingAlgorithm(),
            DemSuperResolutionAlgorithm(),
            EvaluateDemAlgorithm(),
            TopographicPhaseAlgorithm(),
            SarDistortionAlgorithm(),
            SarToOpticalAlgorithm(),
            LandslideAreasAlgorithm(),
            DisplacementArrowsAlgorithm(),
            DisplacementTimeSeriesAlgorithm(),
            TrainDemSuperResolutionAlgorithm(),
            TrainDeepOffsetTrackingAlgorithm(),
            TrainSarToOpticalAlgorithm(),
        ):
            self.addAlgorithm(alg)
        from .shipped_models import shipped_models

        for model in shipped_models():
            self.addAlgorithm(model)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:  # noqa: N802 (QGIS API name)
        return ["tif"]  # outputs are written by rasterio as GeoTIFF

    def id(self) -> str:
        return "geohazard"

    def name(self) -> str:
        return "Geohazard"

    def longName(self) -> str:  # noqa: N802 (QGIS API name)
        return "Geohazard: SAR and DEM tools for landslides, earthquakes, volcanoes and glaciers"

    def icon(self) -> QIcon:
        return QIcon(plugin_icon_path())
