#!/usr/bin/env python3
"""Measure the LAST generator of a DEM super-resolution training run on the held-out table.

    .venv/bin/python scripts/remeasure_dem_sr_checkpoint.py out/run/checkpoint.safetensors \\
        out/run/models/dem_sr_x2.safetensors out/run/models_last

scripts/train_dem_sr.py keeps the generator with the lowest validation RMSE over all stages, so
a stage that makes the validation error worse (the adversarial one, say) never shows in the card
it writes. This takes the generator as it was when the run ended (``model.generator.*`` in the
training checkpoint), measures it on every held-out DEM of engine/families/dem_sr/recipe.py exactly
as
the cards are measured, and writes weights and card to a third folder (never over the first
card), with the card's training entry saying which generator it holds. Compare the two cards
with scripts/compare_dem_sr_cards.py.
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), ".venv", "qgis-plugins"))
sys.path.insert(0, HERE)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", help="checkpoint.safetensors of the training run")
    parser.add_argument("weights", help="the card and weights the run wrote (--models-dir)")
    parser.add_argument("dest", help="folder for the last generator's weights and card")
    parser.add_argument("--data-dir", default=None, help="fetched real DEMs (default .data/real)")
    parser.add_argument(
        "--no-real-data",
        action="store_true",
        help="measure on the Jacksboro test block only (quick checks; not the cards' table)",
    )
    args = parser.parse_args()
    from geohazard.engine.families.dem_sr import recipe
    from geohazard.engine.families.dem_sr.task import TASK
    from geohazard.engine.models.model_store import ModelStore
    from geohazard.engine.models.training.checkpoint import load_checkpoint, prefixed
    from remeasure_dem_sr_cards import remeasured_card

    if os.path.abspath(args.dest) == os.path.dirname(os.path.abspath(args.weights)):
        parser.error("dest must differ from the folder of the run's card")
    store = ModelStore()
    loaded = store.load(TASK, args.weights, "")
    tensors, meta = load_checkpoint(args.checkpoint)
    loaded.net.load_state_dict(prefixed(tensors, "model.generator"))
    loaded.net.eval()
    history = meta.get("history") or []
    training = dict(loaded.card.training)
    last = history[-1] if history else {}
    training["selection"] = (
        "the generator as the run ended (not the best-validated one): last validation at "
        f"stage {last.get('stage')}, step {last.get('step')}"
    )
    training["last_validation"] = last
    data_dir = None if args.no_real_data else (args.data_dir or recipe.DEFAULT_DATA_DIR)
    fresh = remeasured_card(loaded.card, loaded.net, data_dir, training)
    store.save(loaded.net, fresh, args.dest)
    beats = fresh.held_out.model_beats_baseline if fresh.held_out else None
    print(f"{fresh.name} (last generator) in {args.dest}: beats the spline everywhere: {beats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
