"""Checks run inside a write transaction before a message is stored."""

from __future__ import annotations

import sqlite3

from shared_context.domain.clock import iso
from shared_context.domain.errors import Conflict, ErrorCode, session_not_found


def check_session_writable(
    conn: sqlite3.Connection, session_id: str, sender: str, now: float
) -> None:
    """The session exists and is open, and no other agent holds its live ``write`` lock.
    Runs in the same transaction as the insert, so the check and the write are atomic."""
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
    lock = conn.execute(
        "SELECT holder, expires_at FROM session_locks WHERE session_id = ? AND resource = '' "
        "AND lock_type = 'write' AND expires_at > ? AND holder != ?",
        (session_id, now, sender),
    ).fetchone()
    if lock is not None:
        raise Conflict(
            f"{lock[0]} holds the session write lock until {iso(lock[1])}; messages from "
            "other agents are refused until it is released or expires.",
            code=ErrorCode.SESSION_LOCKED,
            details={"holder": lock[0], "expires_at": iso(lock[1]), "reason": "locked"},
        )
