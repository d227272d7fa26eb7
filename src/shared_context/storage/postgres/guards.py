"""Rows fetched inside add_message's transaction for the rules decided in ``domain``."""

from __future__ import annotations

from typing import Any

from shared_context.domain.coordination import check_session_writable as decide_writable
from shared_context.storage.postgres.sql import pg


async def check_session_writable(conn: Any, session_id: str, sender: str, now: float) -> None:
    """Fetch the session's state and any other agent's live ``write`` lease, and let
    ``domain.coordination.check_session_writable`` decide (the same rule as SQLite's).

    ``FOR UPDATE`` serialises writers of one session until COMMIT, so message ids of a session
    become visible in increasing order: a reader that has seen id N never later finds a smaller
    id appear (what ``since_id`` cursors and waiters rely on across instances).
    """
    row = await conn.fetchrow(
        pg("SELECT is_active FROM sessions WHERE session_id = ? FOR UPDATE"), session_id
    )
    lock = None
    if row is not None and row[0]:
        lock = await conn.fetchrow(
            pg(
                "SELECT holder, expires_at FROM session_locks WHERE session_id = ? "
                "AND resource = '' AND lock_type = 'write' AND expires_at > ? AND holder != ?"
            ),
            session_id,
            now,
            sender,
        )
    decide_writable(
        session_id,
        None if row is None else bool(row[0]),
        None if lock is None else (lock[0], lock[1]),
    )
