#!/usr/bin/env python3
"""Re-measure DEM super-resolution models on the current held-out recipe; rewrite their cards.

    .venv/bin/python scripts/fetch_real_data.py
    .venv/bin/python scripts/remeasure_dem_sr_cards.py models/dem_sr_x2.safetensors \\
        models/dem_sr_x4.safetensors [--recipe-note TEXT]

The weights are not changed: each model is run on every held-out DEM of
engine/families/dem_sr/recipe.py (block means and sensor blur) next to the cubic spline with
back-projection, GDAL cubic and nearest, and its card's ``held_out`` (by area, baseline
``spline_bp``, ``model_beats_baseline`` computed from the numbers) and ``limitations`` are
rewritten; the card is saved beside the weights and embedded in them again (ModelStore.save).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geohazard.engine.models.model_card import ModelCard
    from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))


def _trained_on(limitations: str) -> str:
    """The part of a card's limitations that says what the model was trained on (what
    :func:`held_out_limitations` writes after it is measured again)."""
    for marker in (" The held-out table", " Fine-tune"):
        limitations = limitations.split(marker)[0]
    return limitations


def remeasured_card(
    card: ModelCard, net: nn.Module, data_dir: str | None, training: dict[str, Any]
) -> ModelCard:
    """``card`` with its held-out table and limitations measured again for ``net`` on the
    current recipe, and ``training`` as its training entry (a ModelCard)."""
    from geohazard.engine.families.dem_sr import recipe
    from geohazard.engine.families.dem_sr.card import dem_sr_card, held_out_limitations

    table = recipe.held_out_table(net, card.scale, data_dir)
    fresh = dem_sr_card(
        card.name,
        card.scale,
        card.architecture,
        card.parameters,
        card.description,
        training,
        recipe.HELD_OUT_DATA,
        table[0]["metrics"],
        recipe.HELD_OUT_NOTES,
        held_out_limitations(table, _trained_on(card.limitations), recipe.SPLINE_WINS_WHY),
        table,
    )
    return replace(fresh, normalisation=card.normalisation, context_px=card.context_px)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("weights", nargs="+")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--recipe-note", default="", help="added to the card's training entry")
    args = parser.parse_args()
    from geohazard.engine.families.dem_sr import recipe
    from geohazard.engine.families.dem_sr.task import TASK
    from geohazard.engine.models.model_store import ModelStore

    data_dir = args.data_dir or recipe.DEFAULT_DATA_DIR
    store = ModelStore()
    for path in args.weights:
        loaded = store.load(TASK, path, "")
        card = loaded.card
        training = dict(card.training)
        if args.recipe_note:
            training["recipe_note"] = args.recipe_note
        fresh = remeasured_card(card, loaded.net, data_dir, training)
        store.save(loaded.net, fresh, os.path.dirname(os.path.abspath(path)))
        beats = fresh.held_out.model_beats_baseline if fresh.held_out else None
        print(f"{card.name}: beats the spline everywhere: {beats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
