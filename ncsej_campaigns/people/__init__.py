"""People: one record per real human, deduplicated by normalized email."""
