"""Third-party Python packages the plugin needs, and how they are installed for QGIS's Python.

Pure Python: no qgis, no Qt, no torch. The Processing layer asks it what is missing (without
importing torch), the installer dialog asks it which pip commands to run and how far they got,
and tests drive it directly.
"""
