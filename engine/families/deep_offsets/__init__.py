"""Deep offset tracking (CC-ResSiamNet): task, card, training, fine-tuning, training data and
augmentation."""

from ...models.family import Family

FAMILY = Family(
    stem="deep_offsets",
    title="Deep offset tracking",
    citations=("CC_RESSIAMNET", "COSI_CORR", "AUTORIFT"),
    help_anchor="deep-offset-tracking-geohazarddeepoffsettracking",
    context_px=24,  # beyond 24 px a tile edge changes the offsets by < 0.01 px (measured)
    batch_size=8,  # the bundled recipe's
)
