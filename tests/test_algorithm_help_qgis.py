"""What a geologist finds in the toolbox and in each dialog: tags the search matches, help with
allowed values and references (authors, year, venue, DOI), a Help button to the README, and a
plugin description that promises only what exists."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from provider_algorithms import provider_ids
from qgis.core import QgsApplication

ROOT = Path(__file__).resolve().parents[1]


def _algorithms() -> list:  # type: ignore[type-arg]
    return QgsApplication.processingRegistry().providerById("geohazard").algorithms()


def _geohazard_hits(search: str) -> set[str]:
    """Algorithm ids of this plugin that the Processing toolbox shows for a search text."""
    from qgis.gui import QgsProcessingToolboxModel, QgsProcessingToolboxProxyModel

    registry = QgsApplication.processingRegistry()
    proxy = QgsProcessingToolboxProxyModel(None, registry)
    proxy.setFilterString(search)
    found: set[str] = set()

    def walk(parent) -> None:  # type: ignore[no-untyped-def]
        for row in range(proxy.rowCount(parent)):
            index = proxy.index(row, 0, parent)
            alg_id = proxy.data(index, QgsProcessingToolboxModel.RoleAlgorithmId)
            if alg_id and str(alg_id).startswith("geohazard:"):
                found.add(str(alg_id).split(":")[1])
            walk(index)

    from qgis.PyQt.QtCore import QModelIndex

    walk(QModelIndex())
    return found


@pytest.mark.parametrize(
    "search, expected",
    [
        ("landslide", {"offsettracking", "demsuperresolution", "topographicphase"}),
        ("glacier", {"offsettracking", "deepoffsettracking"}),
        ("earthquake", {"offsettracking"}),
        ("volcano", {"offsettracking", "topographicphase"}),
        ("correlation", {"offsettracking", "deepoffsettracking"}),
        ("SAR", {"offsettracking", "topographicphase", "sardistortion", "sartooptical"}),
        ("layover", {"sardistortion"}),
        ("optical", {"sartooptical"}),
        ("InSAR", {"topographicphase", "demsuperresolution"}),
        ("DEM", {"demsuperresolution", "evaluatedem", "topographicphase", "sardistortion"}),
    ],
)
def test_toolbox_search_finds_algorithms_by_tag(plugin, search, expected) -> None:
    hits = _geohazard_hits(search)
    assert expected <= hits, f"searching '{search}' shows {sorted(hits)}"


@pytest.mark.parametrize(
    "alg_id, references",
    [
        (
            "offsettracking",
            [
                "doi.org/10.1016/j.rse.2024.114577",
                "doi.org/10.3390/rs13040749",
                "doi.org/10.1109/TGRS.2006.888937",
                "doi.org/10.1088/0957-0233/13/1/201",
                "doi.org/10.5194/tc-12-521-2018",
                "Kim, J., Jung, H.-S., Lu, Z. (2025)",
                "Remote Sensing of Environment 318, 114577",
            ],
        ),
        (
            "demsuperresolution",
            ["arxiv.org/abs/1809.00219", "Wang, X., Yu, K.", "(2018)", "Lantau Island"],
        ),
        ("evaluatedem", ["doi.org/10.1109/TIP.2003.819861", "Wang, Z., Bovik, A. C."]),
        ("topographicphase", ["Hanssen, R. F. (2001)", "Lantau Island"]),
        (
            "sartooptical",
            ["doi.org/10.1109/IGARSS53475.2024.10641788", "Bralet, A., Atto, A. M.", "(2022)"],
        ),
        ("sardistortion", ["Kropatsch, W. G., Strobl, D. (1990)", "Meier, E., Frei, U."]),
        ("deepoffsettracking", ["doi.org/10.1016/j.rse.2024.114577"]),
    ],
)
def test_help_cites_papers_and_methods(plugin, alg_id, references) -> None:
    alg = QgsApplication.processingRegistry().algorithmById(f"geohazard:{alg_id}")
    text = alg.shortHelpString()
    assert "<b>References</b>" in text
    for ref in references:
        assert ref in text, ref


def _readme_anchors() -> set[str]:
    """GitHub's anchors for the README's headings (lower case, punctuation dropped)."""
    anchors = set()
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def _algorithm(alg_id: str):  # type: ignore[no-untyped-def]
    alg = QgsApplication.processingRegistry().algorithmById(f"geohazard:{alg_id}")
    assert alg is not None, alg_id
    return alg


def test_the_parametrised_checks_see_every_algorithm_of_the_provider(plugin) -> None:
    assert sorted(a.name() for a in _algorithms()) == sorted(provider_ids())


@pytest.mark.parametrize("alg_id", provider_ids())
def test_every_algorithm_has_a_help_url_to_its_readme_section(plugin, alg_id) -> None:
    meta = configparser.ConfigParser(interpolation=None)
    meta.read(ROOT / "metadata.txt", encoding="utf-8")
    home = meta["general"]["homepage"]
    assert meta["general"]["repository"] == home  # one address for the project
    url = _algorithm(alg_id).helpUrl()
    assert url.startswith(home + "#"), url
    assert url.split("#", 1)[1] in _readme_anchors(), f"no README heading for {url}"


@pytest.mark.parametrize("alg_id", provider_ids())
def test_every_algorithm_has_tags_and_references(plugin, alg_id) -> None:
    from geohazard.processing_provider.base_algorithm import GeohazardAlgorithm

    alg = _algorithm(alg_id)
    assert len(alg.tags()) >= 5
    if isinstance(alg, GeohazardAlgorithm):  # shipped graphical models carry their own help
        assert "<b>References</b>" in alg.shortHelpString()


@pytest.mark.parametrize("alg_id", provider_ids())
def test_the_installer_offers_everything_an_algorithm_needs(plugin, alg_id) -> None:
    """So the message bar, the installer and the toolbox can only name the same packages."""
    from geohazard.dependencies.requirements import PLUGIN_MODULES

    assert set(getattr(_algorithm(alg_id), "REQUIRES", ())) <= set(PLUGIN_MODULES)


def test_algorithm_dialog_has_a_help_button(plugin, qgis_iface, monkeypatch) -> None:
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.gui import QgsBrowserGuiModel
    from qgis.PyQt.QtWidgets import QDialogButtonBox

    browser = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: browser, raising=False)
    alg = QgsApplication.processingRegistry().createAlgorithmById("geohazard:topographicphase")
    dialog = AlgorithmDialog(alg)
    try:
        assert dialog.buttonBox().button(QDialogButtonBox.StandardButton.Help) is not None
    finally:
        dialog.deleteLater()


# What the plugin description may promise, and the algorithm that must exist for it.
CAPABILITIES = {
    "offset tracking": "offsettracking",
    "super-resolution": "demsuperresolution",
    "evaluation": "evaluatedem",
    "topographic phase": "topographicphase",
    "sar-to-optical": "sartooptical",
    "deep offset tracking": "deepoffsettracking",
    "cc-ressiamnet": "deepoffsettracking",
    "distortion": "sardistortion",
    "translation": "sartooptical",
    "landslide areas": "landslideareas",
    "training": "traindemsuperresolution",
}


def test_plugin_description_promises_only_what_exists(plugin) -> None:
    meta = configparser.ConfigParser(interpolation=None)
    meta.read(ROOT / "metadata.txt", encoding="utf-8")
    registered = {
        a.name() for a in QgsApplication.processingRegistry().providerById("geohazard").algorithms()
    }
    for key in ("description", "about"):
        text = meta["general"][key].lower()
        for phrase, alg_id in CAPABILITIES.items():
            if phrase in text:
                assert alg_id in registered, f"metadata {key} promises '{phrase}'"
    description = meta["general"]["description"].lower()
    for phrase in ("offset tracking", "super-resolution", "topographic phase", "sar-to-optical"):
        assert phrase in description  # and says what does exist


CITATION = re.compile(r"doi\.org/10\.\d{4,}/|arxiv\.org/abs/\d{4}\.\d{4,}|\(\d{4}\)")


def _visible(definition) -> bool:  # type: ignore[no-untyped-def]
    from geohazard.processing_provider.qgis_compat import HIDDEN

    return not definition.flags() & HIDDEN


def _help_problems(alg) -> list[str]:  # type: ignore[no-untyped-def]
    text = alg.shortHelpString() or ""
    problems = []
    plain = re.sub(r"<[^>]+>", " ", text)
    if len(plain.split()) < 80:
        problems.append("the help is too short to say what it does")
    lower = text.lower()
    for d in alg.parameterDefinitions():
        if _visible(d) and d.name() not in text and d.description().lower() not in lower:
            problems.append(f"the parameter {d.name()} is not named")
    for o in alg.outputDefinitions():
        if o.name() not in text and o.description().lower() not in lower:
            problems.append(f"the output {o.name()} is not named")
    if "<b>References</b>" not in text:
        problems.append("no References")
    elif not CITATION.search(text.split("<b>References</b>", 1)[1]):
        problems.append("no DOI, arXiv id or dated reference")
    return problems


def test_every_algorithm_help_says_what_it_does_names_parameters_outputs_and_cites(
    plugin,
) -> None:
    """The help of every algorithm of the provider (the shipped model included) says what it
    does, each parameter (by the name qgis_process takes, or by the dialog label, which
    carries the unit), each output, and the paper or method it implements."""
    algorithms = _algorithms()
    assert len(algorithms) >= 11
    problems = {alg.id(): _help_problems(alg) for alg in algorithms}
    assert not {k: v for k, v in problems.items() if v}
