"""CPU-specific builds of the embedding engine, measured and verified at install time."""
