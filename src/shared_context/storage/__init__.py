"""Persistence behind one small interface (``base.Store``) with SQLite and PostgreSQL adapters."""
