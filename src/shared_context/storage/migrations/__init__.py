"""Numbered, forward-only schema migrations, one folder per dialect with the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load(dialect: str) -> list[Migration]:
    """Every migration of a dialect, in order; file names are ``NNNN_name.sql``."""
    folder = resources.files(__package__).joinpath(dialect)
    found: list[Migration] = []
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number, _, rest = name.partition("_")
        found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # Numbers are pre-assigned per feature area, so a branch may hold 0003 before 0002 lands:
    # require unique, increasing numbers rather than a gap-free run.
    if len(set(versions)) != len(versions) or any(v < 1 for v in versions):
        raise RuntimeError(f"{dialect} migrations must have unique numbers >= 1: {versions}")
    return found
