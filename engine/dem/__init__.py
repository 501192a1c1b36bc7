"""DEM computations shared by algorithms: metrics, evaluation, classical upsampling, terrain."""
