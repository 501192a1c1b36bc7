"""Raster reading and writing, output files, checks of input rasters (valid data, elevations)
and ground distances of grids."""
