"""metadata.txt names what the plugin does today: every algorithm the provider registers is in
the description, the about text and the changelog, and the changelog's latest entry is the
version."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# How metadata names each registered algorithm (lower case).
PHRASES = {
    "offsettracking": "offset tracking",
    "deepoffsettracking": "deep offset tracking",
    "demsuperresolution": "super-resolution",
    "evaluatedem": "dem evaluation",
    "topographicphase": "topographic phase",
    "sardistortion": "distortion",
    "sartooptical": "sar-to-optical",
    "landslideareas": "landslide areas",
    "displacementarrows": "displacement arrows",
    "traindemsuperresolution": "training",
    "traindeepoffsettracking": "training",
    "trainsartooptical": "training",
    "landslideevent": "landslide event workflow",
    "displacementtimeseries": "time series",
}


def _meta() -> configparser.SectionProxy:
    meta = configparser.ConfigParser(interpolation=None)
    meta.read(ROOT / "metadata.txt", encoding="utf-8")
    return meta["general"]


def test_metadata_names_every_registered_algorithm(plugin) -> None:
    from qgis.core import QgsApplication

    meta = _meta()
    registered = {
        a.name() for a in QgsApplication.processingRegistry().providerById("geohazard").algorithms()
    }
    unknown = registered - set(PHRASES)
    assert not unknown, f"add how metadata names {unknown}"
    for key in ("description", "about", "changelog"):
        text = meta[key].lower()
        missing = sorted(a for a in registered if PHRASES[a] not in text)
        assert not missing, f"metadata {key} does not name {missing}"


def test_version_and_changelog_move_together() -> None:
    meta = _meta()
    entries = re.findall(r"(?m)^\s*(\d+\.\d+\.\d+)\b", meta["changelog"])
    assert entries, "the changelog has no 'X.Y.Z' entries"
    assert entries[0] == meta["version"], (entries[0], meta["version"])
    as_numbers = [tuple(int(p) for p in e.split(".")) for e in entries]
    assert as_numbers == sorted(as_numbers, reverse=True)  # newest first
    assert len(set(entries)) == len(entries)
