"""Seeded simulators: real sample DEMs, SAR-like amplitude with speckle, displacement fields."""
