"""Rows fetched inside a write transaction for the rules decided in ``domain``."""

from __future__ import annotations

import sqlite3

from shared_context.domain.coordination import check_session_writable as decide_writable


def check_session_writable(
    conn: sqlite3.Connection, session_id: str, sender: str, now: float
) -> None:
    """Fetch the session's state and any other agent's live ``write`` lease, and let
    ``domain.coordination.check_session_writable`` decide. Runs in the same transaction as
    the insert, so the check and the write are atomic."""
    row = conn.execute(
        "SELECT is_active FROM sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    lock = None
    if row is not None and row[0]:
        lock = conn.execute(
            "SELECT holder, expires_at FROM session_locks WHERE session_id = ? AND resource = '' "
            "AND lock_type = 'write' AND expires_at > ? AND holder != ?",
            (session_id, now, sender),
        ).fetchone()
    decide_writable(
        session_id,
        None if row is None else bool(row[0]),
        None if lock is None else (lock[0], lock[1]),
    )
