"""Organizations sharing one registry: a health system, its hospitals and affiliated practices."""
