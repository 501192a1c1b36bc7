"""What a model family declares once, for every file that serves it.

Each family package (``engine/families/<stem>/``, or a folder named in ``GEOHAZARD_FAMILY_PATH``)
sets ``FAMILY = Family(...)`` in its ``__init__.py``; its task is ``TASK`` in its ``task.py``. The
inference and training algorithms read their references, help anchor and required packages
from the descriptor, and the task its default model rule, so none of them is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

INFERENCE_PACKAGES = ("numpy", "torch", "rasterio", "safetensors", "scipy")
TRAINING_PACKAGES = (*INFERENCE_PACKAGES, "matplotlib")


@dataclass(frozen=True)
class Family:
    """One model family.

    Args:
        stem: the family's name in every file name (``dem_sr``: ``engine/families/dem_sr/``,
            ``processing_provider/dem_sr.py`` and ``train_dem_sr.py``, ``tests/test_dem_sr_*``).
        title: what the family does, for people.
        citations: names of the references in ``processing_provider/citations.py`` (or the
            family's own algorithms module) listed in both algorithms' help.
        help_anchor: the README section (GitHub heading anchor) behind the Help button.
        requires: Python packages inference needs (training adds matplotlib for the curves).
        context_px: input pixels a tile border influences; tile overlap defaults exceed it.
        batch_size: fine-tuning's default batch size (BATCH_SIZE, ``--batch-size``).
        learning_rate: fine-tuning's default learning rate (LEARNING_RATE, ``--lr``).
    """

    stem: str
    title: str
    citations: tuple[str, ...] = ()
    help_anchor: str = ""
    requires: tuple[str, ...] = INFERENCE_PACKAGES
    context_px: int = 0
    batch_size: int = 16
    learning_rate: float = 1e-4

    @property
    def training_requires(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.requires, "matplotlib")))
