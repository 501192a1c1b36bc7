"""One file per model task: its config, its tile preparation and restoring, its default model."""
