"""Network architectures, one family per file, built from a config through :mod:`.registry`."""
