"""Rules decided in the domain over fetched rows, the same for every storage adapter."""

from __future__ import annotations

import dataclasses

import pytest

from shared_context.domain.coordination import Lease, check_session_writable, locked_error
from shared_context.domain.errors import Conflict, ErrorCode, LimitExceeded, NotFound
from shared_context.domain.memory import MemoryWrite, check_quota, check_write_preconditions

NOW = 1_800_000_000.0


def test_session_writable_rule() -> None:
    check_session_writable("session_0123456789abcdef", True, None)
    with pytest.raises(NotFound) as missing:
        check_session_writable("session_0123456789abcdef", None, None)
    assert missing.value.code is ErrorCode.SESSION_NOT_FOUND
    with pytest.raises(Conflict) as closed:
        check_session_writable("session_0123456789abcdef", False, None)
    assert closed.value.details == {"reason": "closed"}
    with pytest.raises(Conflict) as locked:
        check_session_writable("session_0123456789abcdef", True, ("bob", NOW + 60))
    assert locked.value.code is ErrorCode.SESSION_LOCKED
    assert locked.value.details["holder"] == "bob"
    assert locked.value.details["reason"] == "locked"


def test_lock_refusal_names_holder_and_expiry() -> None:
    lease = Lease("session_0123456789abcdef", "a.py", "write", "bob", "codex", NOW, NOW + 30)
    body = locked_error(lease).to_dict()
    assert body["code"] == "SESSION_LOCKED"
    assert body["holder"] == "bob" and body["expires_at"]
    assert body["details"]["resource"] == "a.py"


BASE = MemoryWrite(
    agent_id="alice",
    session_id=None,
    key="k",
    value_json="1",
    size_bytes=10,
    metadata={},
    now=NOW,
    expires_at=None,
    max_entries=2,
    max_bytes=100,
)


def _write(**changes: object) -> MemoryWrite:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_compare_and_set_rule() -> None:
    check_write_preconditions(_write(), None)
    check_write_preconditions(_write(if_version=0), None)
    check_write_preconditions(_write(if_version=3), 3)
    with pytest.raises(Conflict) as stale:
        check_write_preconditions(_write(if_version=2), 3)
    assert stale.value.code is ErrorCode.VERSION_CONFLICT
    assert stale.value.details == {"current_version": 3}
    with pytest.raises(Conflict) as exists:
        check_write_preconditions(_write(overwrite=False), 1)
    assert exists.value.code is ErrorCode.KEY_EXISTS


def test_quota_rule() -> None:
    check_quota(_write(), entries=1, used=50, replaced_size=None)
    check_quota(_write(size_bytes=5), entries=2, used=100, replaced_size=10)  # shrinking: fine
    with pytest.raises(LimitExceeded) as full:
        check_quota(_write(), entries=2, used=20, replaced_size=None)
    assert full.value.details == {"entries": 2, "max_entries": 2}
    with pytest.raises(LimitExceeded) as heavy:
        check_quota(_write(size_bytes=60), entries=1, used=50, replaced_size=None)
    assert heavy.value.code is ErrorCode.QUOTA_EXCEEDED
