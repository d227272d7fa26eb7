"""Rows to domain values, shared by both adapters (tuples and ``sqlite3.Row`` alike)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from shared_context.domain.models import ApiKey, AuditEvent, Message, Session, Visibility
from shared_context.domain.permissions import parse_permissions

MESSAGE_COLUMNS = (
    "m.id, m.session_id, m.sender, m.sender_type, m.content, m.visibility, m.metadata, "
    "m.parent_message_id, m.created_at"
)
SESSION_COLUMNS = "seq, session_id, purpose, metadata, created_by, created_at, is_active"
KEY_COLUMNS = "key_id, name, permissions, created_at, revoked_at, agents"


def message(row: sqlite3.Row | tuple[Any, ...]) -> Message:
    return Message(
        id=row[0],
        session_id=row[1],
        sender=row[2],
        sender_type=row[3],
        content=row[4],
        visibility=Visibility(row[5]),
        metadata=json.loads(row[6]),
        parent_message_id=row[7],
        created_at=row[8],
    )


def session(row: tuple[Any, ...]) -> Session:
    return Session(
        seq=row[0],
        session_id=row[1],
        purpose=row[2],
        metadata=json.loads(row[3]),
        created_by=row[4],
        created_at=row[5],
        is_active=bool(row[6]),
    )


def api_key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        key_id=row[0],
        name=row[1],
        permissions=parse_permissions(json.loads(row[2])),
        created_at=row[3],
        revoked_at=row[4],
        agents=tuple(json.loads(row[5])),
    )


def audit(row: tuple[Any, ...]) -> AuditEvent:
    return AuditEvent(
        id=row[0],
        timestamp=row[1],
        agent_id=row[2],
        event_type=row[3],
        session_id=row[4],
        outcome=row[5],
        details=json.loads(row[6]),
    )
