"""Geohazard compute engine.

Everything that computes lives here. This package imports numpy, torch and rasterio, and never
qgis or PyQt, so it runs in tests, in qgis_process, in a background task and on a cluster alike.
"""
