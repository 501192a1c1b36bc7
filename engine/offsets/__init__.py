"""Offset tracking of two amplitude images: NCC kernel, multi-window tracker, outlier filters."""
