"""SQLite adapter: one group-commit writer thread, a small pool of reader threads."""
