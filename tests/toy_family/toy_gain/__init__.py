"""Toy gain: one 1x1 convolution of a one-band raster (a model family for tests only)."""

from geohazard.engine.models.family import Family

FAMILY = Family(
    stem="toy_gain",
    title="Toy gain",
    citations=("TOY_REFERENCE",),
    help_anchor="deep-offset-tracking-geohazarddeepoffsettracking",
    requires=("numpy", "torch", "rasterio", "safetensors"),
    context_px=0,
    batch_size=4,
    learning_rate=1e-2,
)
