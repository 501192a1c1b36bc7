"""A tiny SARDINet configuration shared by the SAR-to-optical tests (fast on a CPU)."""

TINY = dict(
    cond_features=8,
    features=16,
    enc_mid=12,
    enc_out=16,
    dec1=8,
    dec2=4,
    inter_spatial1=2,
    inter_spatial2=4,
)
