"""In-process event bus (and, for PostgreSQL, its cross-instance bridge)."""
