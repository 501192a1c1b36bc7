"""DEM super-resolution (ESRGAN-style RRDB): task, card, training, fine-tuning and their data."""

from ...models.family import Family

FAMILY = Family(
    stem="dem_sr",
    title="DEM super-resolution",
    citations=("ESRGAN_DEM", "ESRGAN"),
    help_anchor="dem-super-resolution-geohazarddemsuperresolution-evaluatedem-topographicphase",
    context_px=12,  # tile-border effects below 1e-5 of the tile relief beyond 12 input pixels
)
