"""SAR-to-optical translation (SARDINet with DEM fusion): task, card, training, fine-tuning,
enhancement, metrics and the SAR/DEM/optical data."""

from ...models.family import Family

FAMILY = Family(
    stem="sar_to_optical",
    title="SAR-to-optical translation",
    citations=("SARDINET_DEM", "SARDINET"),
    help_anchor="sar-distortion-and-sar-to-optical-geohazardsardistortion-geohazardsartooptical",
    context_px=64,
    batch_size=24,  # the paper's batch and learning rate
    learning_rate=1e-5,
)
