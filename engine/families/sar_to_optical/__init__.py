"""SAR-to-optical translation (SARDINet): enhancement, metrics, card, training hooks."""
