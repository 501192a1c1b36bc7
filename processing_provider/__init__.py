"""Processing provider and algorithms: thin wrappers that read parameters and call engine/."""
