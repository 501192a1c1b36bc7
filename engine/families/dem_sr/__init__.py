"""DEM super-resolution: normalisation, training data, training, model store and tiled inference."""
