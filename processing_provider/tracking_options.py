"""The options both trackers take: pre-filter, acquisition dates and velocities, stable ground,
prior offsets; their parameters, how they are read, and the stable-ground statistics outputs."""

from __future__ import annotations

import datetime
import json
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..engine.offsets.prefilter import PREFILTERS
from .base_algorithm import GeohazardAlgorithm
from .qgis_compat import DATE, VECTOR_POLYGON


class TrackingOptions(GeohazardAlgorithm):
    """Base of the trackers' algorithms (each has a REFERENCE raster parameter)."""

    REFERENCE = "REFERENCE"
    REFERENCE_DATE = "REFERENCE_DATE"
    SECONDARY_DATE = "SECONDARY_DATE"
    STABLE_AREAS = "STABLE_AREAS"
    PRIOR_OFFSETS = "PRIOR_OFFSETS"
    PREFILTER = "PREFILTER"
    VELOCITY_OUTPUT = "VELOCITY_OUTPUT"
    STABLE_SHIFT_EAST = "STABLE_SHIFT_EAST"
    STABLE_SHIFT_NORTH = "STABLE_SHIFT_NORTH"
    STABLE_RMSE = "STABLE_RMSE"

    def add_prefilter_parameter(self, label: str) -> None:
        self.addParameter(
            QgsProcessingParameterEnum(self.PREFILTER, label, list(PREFILTERS), defaultValue=0)
        )

    def add_option_parameters(self) -> None:
        """The dates, stable ground and prior offsets parameters."""
        for name, label in (
            (self.REFERENCE_DATE, self.tr("Reference acquisition date (for velocities)")),
            (self.SECONDARY_DATE, self.tr("Secondary acquisition date (for velocities)")),
        ):
            self.addParameter(QgsProcessingParameterDateTime(name, label, DATE, optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                self.STABLE_AREAS,
                self.tr("Stable ground (polygons of ground that did not move)"),
                [VECTOR_POLYGON],
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer(
                self.PRIOR_OFFSETS,
                self.tr("Prior offsets (raster: expected east, north offsets in m)"),
                optional=True,
            )
        )

    def add_velocity_output(self) -> None:
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                self.VELOCITY_OUTPUT,
                self.tr("Velocities (east, north, speed in m/yr; needs both dates)"),
                optional=True,
                createByDefault=False,
            )
        )

    def add_stable_outputs(self) -> None:
        for key, label in (
            (self.STABLE_SHIFT_EAST, self.tr("Stable-ground shift removed, east (m)")),
            (self.STABLE_SHIFT_NORTH, self.tr("Stable-ground shift removed, north (m)")),
            (self.STABLE_RMSE, self.tr("RMSE over stable ground after correction (m)")),
        ):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def prefilter_choice(self, parameters: dict, context: QgsProcessingContext) -> str:
        index = self.parameterAsEnum(parameters, self.PREFILTER, context)
        return list(PREFILTERS)[index]

    def prior_offsets_file(self, parameters: dict, context: QgsProcessingContext) -> str | None:
        if not parameters.get(self.PRIOR_OFFSETS):
            return None
        return self.raster_file(parameters, self.PRIOR_OFFSETS, context)

    def stable_results(self, stable: Any) -> dict[str, Any]:
        """The stable-ground statistics outputs, when a correction was applied."""
        if stable is None or stable.rmse is None:
            return {}
        return {
            self.STABLE_SHIFT_EAST: stable.east,
            self.STABLE_SHIFT_NORTH: stable.north,
            self.STABLE_RMSE: stable.rmse,
        }

    def _date(
        self, parameters: dict, name: str, context: QgsProcessingContext
    ) -> datetime.date | None:
        """The date of an optional date parameter, or None when it is not given."""
        if parameters.get(name) in (None, ""):
            return None
        value = self.parameterAsDateTime(parameters, name, context)
        if not value.isValid():
            raise QgsProcessingException(
                self.tr("{name}: '{value}' is not a date (use YYYY-MM-DD).").format(
                    name=name, value=parameters.get(name)
                )
            )
        d = value.date()
        return datetime.date(d.year(), d.month(), d.day())

    def _stable_areas(
        self, parameters: dict, reference: str, context: QgsProcessingContext
    ) -> list[dict] | None:
        """The stable-ground polygons as GeoJSON geometries in the reference raster's CRS."""
        if not parameters.get(self.STABLE_AREAS):
            return None
        source = self.parameterAsSource(parameters, self.STABLE_AREAS, context)
        if source is None:
            raise QgsProcessingException(self.tr("STABLE_AREAS: could not load the polygon layer."))
        crs = self.parameterAsRasterLayer(parameters, self.REFERENCE, context).crs()
        transform = QgsCoordinateTransform(source.sourceCrs(), crs, context.transformContext())
        geometries = []
        for feature in source.getFeatures():
            geom = feature.geometry()
            if geom is None or geom.isEmpty():
                continue
            geom.transform(transform)
            geometries.append(json.loads(geom.asJson()))
        if not geometries:
            raise QgsProcessingException(
                self.tr("STABLE_AREAS holds no polygons; draw at least one area of stable ground.")
            )
        return geometries
