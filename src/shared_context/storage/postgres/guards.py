"""Checks run inside add_message's transaction, before the message is stored."""

from __future__ import annotations

from typing import Any

from shared_context.domain.clock import iso
from shared_context.domain.errors import Conflict, ErrorCode, session_not_found
from shared_context.storage.postgres.sql import pg


async def check_session_writable(conn: Any, session_id: str, sender: str, now: float) -> None:
    """The session exists and is open, and no other agent holds its live ``write`` lock
    (the same rule and words as ``sqlite/guards.py``).

    ``FOR UPDATE`` serialises writers of one session until COMMIT, so message ids of a session
    become visible in increasing order: a reader that has seen id N never later finds a smaller
    id appear (what ``since_id`` cursors and waiters rely on across instances).
    """
    row = await conn.fetchrow(
        pg("SELECT is_active FROM sessions WHERE session_id = ? FOR UPDATE"), session_id
    )
    if row is None:
        raise session_not_found(session_id)
    if not row[0]:
        raise Conflict(
            "The session is closed; no further messages can be added. Create a new session.",
            code=ErrorCode.SESSION_LOCKED,
            details={"reason": "closed"},
        )
    lock = await conn.fetchrow(
        pg(
            "SELECT holder, expires_at FROM session_locks WHERE session_id = ? AND resource = '' "
            "AND lock_type = 'write' AND expires_at > ? AND holder != ?"
        ),
        session_id,
        now,
        sender,
    )
    if lock is not None:
        raise Conflict(
            f"{lock[0]} holds the session write lock until {iso(lock[1])}; messages from "
            "other agents are refused until it is released or expires.",
            code=ErrorCode.SESSION_LOCKED,
            details={"holder": lock[0], "expires_at": iso(lock[1]), "reason": "locked"},
        )
