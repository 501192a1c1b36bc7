"""SAR viewing geometry over a DEM: distortion classes and InSAR topographic phase."""
