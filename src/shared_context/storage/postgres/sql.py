"""Placeholder translation: the one place ``?`` (SQLite, domain.visibility) becomes ``$n``."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=512)
def pg(sql: str) -> str:
    """Number each ``?`` outside quoted literals and identifiers as ``$1``, ``$2``, …

    Queries are written once with ``?`` (the form ``domain.visibility.sql_filter`` produces) and
    translated here, so parameter order stays the order the pieces were concatenated in.
    """
    out: list[str] = []
    n = 0
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    if quote:
        raise ValueError("unterminated quoted literal in SQL")
    return "".join(out)
