"""Checks run inside a write transaction before a message is stored."""

from __future__ import annotations

import sqlite3

from shared_context.domain.errors import Conflict, ErrorCode, session_not_found


def check_session_writable(
    conn: sqlite3.Connection, session_id: str, sender: str, now: float
) -> None:
    """The session exists and is open. (Session write locks are checked here too once the
    coordination schema exists.)"""
    row = conn.execute(
        "SELECT is_active FROM sessions WHERE session_id = ?", (session_id,)
    ).fetchone()
    if row is None:
        raise session_not_found(session_id)
    if not row[0]:
        raise Conflict(
            "The session is closed; no further messages can be added. Create a new session.",
            code=ErrorCode.SESSION_LOCKED,
            details={"reason": "closed"},
        )
