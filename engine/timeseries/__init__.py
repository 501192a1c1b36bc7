"""Displacement time series from a stack of co-registered amplitude images (issue 23)."""
