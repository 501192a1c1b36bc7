"""The enum constants of processing_provider/qgis_compat.py on the running QGIS (3.22 here): each
equals the legacy value, parameters made with them behave as before, and a spelling missing from
QGIS falls back to the next one."""

from __future__ import annotations

import types

import pytest
from geohazard.processing_provider import qgis_compat
from geohazard.processing_provider.qgis_compat import (
    ADVANCED,
    DOUBLE,
    INTEGER,
    _first,
    set_advanced,
)
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

PRE_330 = Qgis.QGIS_VERSION_INT < 33000


def _legacy(owner: object, name: str) -> object:
    """The unscoped 3.x spelling, reached by name so that the enum check never sees it here."""
    return getattr(owner, name)


LEGACY = {
    "ADVANCED": (QgsProcessingParameterDefinition, "FlagAdvanced"),
    "OPTIONAL": (QgsProcessingParameterDefinition, "FlagOptional"),
    "HIDDEN": (QgsProcessingParameterDefinition, "FlagHidden"),
    "INTEGER": (QgsProcessingParameterNumber, "Integer"),
    "DOUBLE": (QgsProcessingParameterNumber, "Double"),
    "DISTANCE_METERS": (QgsUnitTypes, "DistanceMeters"),
    "STATS_MIN": (QgsRasterBandStats, "Min"),
    "STATS_MAX": (QgsRasterBandStats, "Max"),
    "RAMP_INTERPOLATED": (QgsColorRampShader, "Interpolated"),
    "MESSAGE_INFO": (Qgis, "Info"),
    "MESSAGE_WARNING": (Qgis, "Warning"),
    "MESSAGE_CRITICAL": (Qgis, "Critical"),
    "MESSAGE_SUCCESS": (Qgis, "Success"),
    "DATE": (QgsProcessingParameterDateTime, "Date"),
    "VECTOR_POLYGON": (QgsProcessing, "TypeVectorPolygon"),
    "LAYER_RASTER": (QgsProcessing, "TypeRaster"),
    "FILE_FOLDER": (QgsProcessingParameterFile, "Folder"),
}


@pytest.mark.skipif(not PRE_330, reason="the legacy spellings are compared on QGIS 3.22-3.28")
@pytest.mark.parametrize("name", sorted(LEGACY))
def test_constant_equals_legacy_value(name):
    owner, legacy = LEGACY[name]
    value = getattr(qgis_compat, name)
    assert value == _legacy(owner, legacy)
    assert int(value) == int(_legacy(owner, legacy))


def test_every_exported_constant_is_tested():
    constants = {n for n in qgis_compat.__all__ if n.isupper()}
    assert constants == set(LEGACY)


def test_number_parameters_keep_their_type(qgis_app):
    whole = QgsProcessingParameterNumber("STEP", "Step", INTEGER, 16, minValue=1)
    real = QgsProcessingParameterNumber("Q", "Quality", DOUBLE, 0.1)
    assert whole.dataType() == _legacy(QgsProcessingParameterNumber, "Integer")
    assert real.dataType() == _legacy(QgsProcessingParameterNumber, "Double")
    assert whole.dataType() != real.dataType()
    assert whole.checkValueIsAcceptable(3)
    assert not whole.checkValueIsAcceptable(0)  # below minValue
    # The integer type survives a round trip through the model file format.
    again = QgsProcessingParameterNumber("X", "X")
    assert again.fromVariantMap(whole.toVariantMap())
    assert again.dataType() == whole.dataType()


def test_set_advanced_adds_only_the_advanced_flag(qgis_app):
    param = QgsProcessingParameterNumber("Q", "Quality", DOUBLE, 0.1, optional=True)
    before = int(param.flags())
    assert set_advanced(param) is param
    after = int(param.flags())
    assert after & int(ADVANCED)
    assert after == before | int(ADVANCED)  # the optional flag is kept
    assert after & int(qgis_compat.OPTIONAL)
    assert not after & int(qgis_compat.HIDDEN)


def test_plugin_parameters_use_the_compat_values(plugin):
    from qgis.core import QgsApplication

    alg = QgsApplication.processingRegistry().algorithmById("geohazard:offsettracking")
    step = alg.parameterDefinition("STEP")
    quality = alg.parameterDefinition("MIN_QUALITY")
    assert step.dataType() == INTEGER
    assert quality.dataType() == DOUBLE
    assert int(quality.flags()) & int(ADVANCED)
    assert not int(step.flags()) & int(ADVANCED)


def test_first_takes_the_first_spelling_that_exists():
    old = types.SimpleNamespace(Flag=types.SimpleNamespace(FlagAdvanced=2))
    new = types.SimpleNamespace()  # an older QGIS: the Qgis enum is missing
    assert _first("x", (new, "ProcessingParameterFlag.Advanced"), (old, "Flag.FlagAdvanced")) == 2
    newer = types.SimpleNamespace(ProcessingParameterFlag=types.SimpleNamespace(Advanced=8))
    assert _first("x", (newer, "ProcessingParameterFlag.Advanced"), (old, "Flag.FlagAdvanced")) == 8


def test_first_says_which_value_is_missing():
    with pytest.raises(ImportError, match="the advanced flag .*Flag.FlagAdvanced"):
        _first("the advanced flag", (types.SimpleNamespace(), "Flag.FlagAdvanced"))
