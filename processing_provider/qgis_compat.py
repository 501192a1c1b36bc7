"""QGIS enum values under the name each QGIS version knows them by (3.22 and PyQt5 to 4.x and Qt6).

QGIS 4 (Qt6) accepts only scoped enum forms, and from QGIS 3.30 on several enums moved into the
``Qgis`` namespace with shorter member names (the advanced parameter flag, ``FlagAdvanced`` of
``QgsProcessingParameterDefinition`` on 3.22, is ``Qgis.ProcessingParameterFlag.Advanced`` now).
On QGIS 3.22 those ``Qgis`` enums do not exist yet, so no single spelling serves every version
the plugin supports. Each constant here is the first of its known spellings that the running
QGIS has, newest first; the legacy unscoped spelling is never used, so the plugin code stays
clean under the Qt6 enum check. Import these constants instead of writing the enum in an
algorithm::

    from .qgis_compat import ADVANCED, INTEGER, set_advanced

    param = QgsProcessingParameterNumber("STEP", self.tr("Step"), INTEGER, 16)
    set_advanced(param)
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    Qgis,
    QgsColorRampShader,
    QgsProcessing,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsRasterBandStats,
    QgsUnitTypes,
)


def _first(what: str, *candidates: tuple[object, str]) -> Any:
    """The value of the first ``owner.dotted.path`` that exists in the running QGIS.

    Args:
        what: what the enum value means, for the error message.
        *candidates: ``(owner, "Enum.Member")`` pairs, newest spelling first.

    Returns:
        The enum value.

    Raises:
        ImportError: when the running QGIS has none of the spellings (a QGIS this plugin was
            never made for); raised at import, so the plugin fails early and says why.
    """
    for owner, dotted in candidates:
        value: Any = owner
        try:
            for part in dotted.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    names = ", ".join(f"{getattr(o, '__name__', o)}.{d}" for o, d in candidates)
    raise ImportError(f"This QGIS version has none of the known names of {what} ({names}).")


# Processing parameter flags (QgsProcessingParameterDefinition.flags()).
ADVANCED = _first(
    "the advanced parameter flag",
    (Qgis, "ProcessingParameterFlag.Advanced"),
    (QgsProcessingParameterDefinition, "Flag.FlagAdvanced"),
)
OPTIONAL = _first(
    "the optional parameter flag",
    (Qgis, "ProcessingParameterFlag.Optional"),
    (QgsProcessingParameterDefinition, "Flag.FlagOptional"),
)
HIDDEN = _first(
    "the hidden parameter flag",
    (Qgis, "ProcessingParameterFlag.Hidden"),
    (QgsProcessingParameterDefinition, "Flag.FlagHidden"),
)

# Number parameter types (the third argument of QgsProcessingParameterNumber).
INTEGER = _first(
    "the integer number parameter type",
    (Qgis, "ProcessingNumberParameterType.Integer"),
    (QgsProcessingParameterNumber, "Type.Integer"),
)
DOUBLE = _first(
    "the double number parameter type",
    (Qgis, "ProcessingNumberParameterType.Double"),
    (QgsProcessingParameterNumber, "Type.Double"),
)

# Date-only parameters and polygon layer inputs.
DATE = _first(
    "the date-only parameter type",
    (Qgis, "ProcessingDateTimeParameterDataType.Date"),
    (QgsProcessingParameterDateTime, "Type.Date"),
)
VECTOR_POLYGON = _first(
    "the polygon layer source type",
    (Qgis, "ProcessingSourceType.VectorPolygon"),
    (QgsProcessing, "SourceType.TypeVectorPolygon"),
)

# Layer type of a multiple-layers parameter, and the folder behaviour of a file parameter.
LAYER_RASTER = _first(
    "the raster layer type",
    (Qgis, "ProcessingSourceType.Raster"),
    (QgsProcessing, "SourceType.TypeRaster"),
)
FILE_FOLDER = _first(
    "the folder behaviour of a file parameter",
    (Qgis, "ProcessingFileParameterBehavior.Folder"),
    (QgsProcessingParameterFile, "Behavior.Folder"),
)

# Units, raster statistics and colour ramps used by the output styles.
DISTANCE_METERS = _first(
    "the metre distance unit",
    (Qgis, "DistanceUnit.Meters"),
    (QgsUnitTypes, "DistanceUnit.DistanceMeters"),
)
STATS_MIN = _first(
    "the raster band minimum statistic",
    (Qgis, "RasterBandStatistic.Min"),
    (QgsRasterBandStats, "Stats.Min"),
)
STATS_MAX = _first(
    "the raster band maximum statistic",
    (Qgis, "RasterBandStatistic.Max"),
    (QgsRasterBandStats, "Stats.Max"),
)
RAMP_INTERPOLATED = _first(
    "the interpolated (linear) colour ramp type",
    (Qgis, "ShaderInterpolationMethod.Linear"),
    (QgsColorRampShader, "Type.Interpolated"),
)

# Message levels (feedback, message bar, QgsMessageLog). Qgis.MessageLevel is scoped on every
# supported version; named here so that plugin code has one place for every enum it uses.
MESSAGE_INFO = Qgis.MessageLevel.Info
MESSAGE_WARNING = Qgis.MessageLevel.Warning
MESSAGE_CRITICAL = Qgis.MessageLevel.Critical
MESSAGE_SUCCESS = Qgis.MessageLevel.Success


def set_advanced(param: QgsProcessingParameterDefinition) -> QgsProcessingParameterDefinition:
    """Mark a parameter advanced (shown under "Advanced parameters") and return it.

    Args:
        param: the parameter, before ``addParameter``.

    Returns:
        The same parameter, so calls can be chained.
    """
    param.setFlags(param.flags() | ADVANCED)
    return param


__all__ = [
    "ADVANCED",
    "DATE",
    "DISTANCE_METERS",
    "DOUBLE",
    "FILE_FOLDER",
    "HIDDEN",
    "INTEGER",
    "LAYER_RASTER",
    "MESSAGE_CRITICAL",
    "MESSAGE_INFO",
    "MESSAGE_SUCCESS",
    "MESSAGE_WARNING",
    "OPTIONAL",
    "RAMP_INTERPOLATED",
    "STATS_MAX",
    "STATS_MIN",
    "VECTOR_POLYGON",
    "set_advanced",
]
