"""Deep offset tracking (CC-ResSiamNet): augmentation, training data, inference helpers."""
