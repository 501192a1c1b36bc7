"""Products derived from a displacement raster: landslide-area polygons and arrow points."""
