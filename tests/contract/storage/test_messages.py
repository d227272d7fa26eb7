"""Messages: writes, idempotency, guards and visibility-filtered reads on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.domain.ids import new_session_id
from shared_context.domain.models import MessageQuery, Visibility
from shared_context.domain.visibility import can_see
from tests.contract.storage.factories import NOW, audit, message, principal, session
from tests.contract.storage.rawsql import count, scalar

V = Visibility


async def open_session(store: Any, created_by: str = "alice") -> str:
    created = await store.create_session(session(created_by), audit("create_session"))
    return str(created.session_id)


async def test_add_and_read_back_a_message(store: Any) -> None:
    sid = await open_session(store)
    stored, created = await store.add_message(
        message(sid, "héllo 'quoted' ?", metadata={"x": 1}), audit("add_message", session_id=sid)
    )
    assert created is True
    assert stored.id > 0
    assert await store.get_message(sid, stored.id) == stored
    assert await store.get_message(new_session_id(), stored.id) is None
    assert await store.last_message_id(sid) == stored.id
    assert await store.last_message_id(new_session_id()) == 0
    details = await scalar(store, "SELECT details FROM audit_log WHERE event_type = 'add_message'")
    assert f'"message_id":{stored.id}' in details.replace(" ", "")


async def test_idempotency_key_returns_the_first_message(store: Any) -> None:
    sid = await open_session(store)
    first, created = await store.add_message(message(sid, "one", key="k1"), audit("add"))
    again, created_again = await store.add_message(message(sid, "two", key="k1"), audit("add"))
    assert created is True
    assert created_again is False
    assert again == first
    other, _ = await store.add_message(message(sid, "one", sender="bob", key="k1"), audit("add"))
    assert other.id != first.id
    assert await count(store, "messages") == 2
    assert await count(store, "audit_log") == 3


async def test_racing_calls_with_one_idempotency_key_store_one_message(store: Any) -> None:
    sids = [await open_session(store) for _ in range(2)]
    results = await asyncio.gather(
        *(
            store.add_message(message(sids[i % 2], f"try {i}", key="same"), audit("add"))
            for i in range(8)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({m.id for m, _ in results}) == 1
    assert await count(store, "messages") == 1


async def test_concurrent_writers_get_increasing_ids(store: Any) -> None:
    sid = await open_session(store)
    results = await asyncio.gather(
        *(store.add_message(message(sid, f"m{i}"), audit("add")) for i in range(20))
    )
    ids = sorted(m.id for m, _ in results)
    assert len(set(ids)) == 20
    page = await store.get_messages(principal("alice"), MessageQuery(sid, limit=100))
    assert [m.id for m in page] == ids


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("missing_session", ErrorCode.SESSION_NOT_FOUND),
        ("closed_session", ErrorCode.SESSION_LOCKED),
        ("foreign_parent", ErrorCode.MESSAGE_NOT_FOUND),
        ("missing_parent", ErrorCode.MESSAGE_NOT_FOUND),
    ],
)
async def test_refused_writes_leave_nothing_behind(store: Any, case: str, code: ErrorCode) -> None:
    sid = await open_session(store)
    other = await open_session(store)
    elsewhere, _ = await store.add_message(message(other, "there"), audit("add"))
    target, parent = sid, None
    if case == "missing_session":
        target = new_session_id()
    elif case == "closed_session":
        await store.close_session(sid, NOW, audit("close"))
    elif case == "foreign_parent":
        parent = elsewhere.id
    else:
        parent = elsewhere.id + 1000
    before = await count(store, "audit_log")
    with pytest.raises(SharedContextError) as caught:
        await store.add_message(message(target, "x", parent=parent, key="k"), audit("add"))
    assert caught.value.code is code
    assert await count(store, "messages") == 1
    assert await count(store, "audit_log") == before


async def test_reply_to_a_parent_in_the_same_session(store: Any) -> None:
    sid = await open_session(store)
    root, _ = await store.add_message(message(sid, "root"), audit("add"))
    reply, _ = await store.add_message(message(sid, "reply", parent=root.id), audit("add"))
    assert reply.parent_message_id == root.id
    found = await store.get_messages(principal("bob"), MessageQuery(sid, parent_message_id=root.id))
    assert [m.id for m in found] == [reply.id]


VIEWERS = [
    principal("alice", "claude"),
    principal("bob", "claude"),
    principal("gina", "gemini"),
    principal("root", "ops", admin=True),
]


async def test_every_read_applies_the_visibility_rule(store: Any) -> None:
    sid = await open_session(store)
    posted = []
    for sender, kind in (("alice", "claude"), ("gina", "gemini"), ("root", "ops")):
        for visibility in V:
            stored, _ = await store.add_message(
                message(
                    sid,
                    f"{sender} {visibility}",
                    sender=sender,
                    sender_type=kind,
                    visibility=visibility,
                ),
                audit("add"),
            )
            posted.append(stored)
    for viewer in VIEWERS:
        expected = [m for m in posted if can_see(viewer, m)]
        got = await store.get_messages(viewer, MessageQuery(sid, limit=100))
        assert got == expected, viewer.agent_id
        counts = await store.visible_counts(viewer, [sid, new_session_id()])
        assert counts[sid] == len(expected)
        assert await store.participants(viewer, sid) == sorted({m.sender for m in expected})
        without_admin = await store.get_messages(
            viewer, MessageQuery(sid, limit=100, include_admin_only=False)
        )
        assert all(m.visibility is not V.ADMIN_ONLY for m in without_admin)
    assert await store.visible_counts(VIEWERS[0], []) == {}


async def test_query_filters_combine(store: Any) -> None:
    sid = await open_session(store)
    made = []
    for i in range(6):
        stored, _ = await store.add_message(
            message(sid, f"m{i}", sender="alice" if i % 2 else "bob", at=NOW + i), audit("add")
        )
        made.append(stored)
    viewer = principal("carol")

    async def ids(**kw: Any) -> list[int]:
        return [m.id for m in await store.get_messages(viewer, MessageQuery(sid, **kw))]

    all_ids = [m.id for m in made]
    assert await ids(limit=2) == all_ids[:2]
    assert await ids(after_id=all_ids[2]) == all_ids[3:]
    assert await ids(before_id=all_ids[2]) == all_ids[:2]
    assert await ids(sender="alice") == all_ids[1::2]
    assert await ids(since=NOW + 2, until=NOW + 4) == all_ids[2:5]
    assert await ids(newest_first=True, limit=3) == all_ids[::-1][:3]
    assert await ids(visibility=V.PUBLIC) == all_ids
    assert await ids(visibility=V.PRIVATE) == []


async def test_set_visibility_updates_and_audits(store: Any) -> None:
    sid = await open_session(store)
    stored, _ = await store.add_message(message(sid, "secret soon"), audit("add"))
    updated = await store.set_visibility(sid, stored.id, V.PRIVATE, audit("set_visibility"))
    assert updated.visibility is V.PRIVATE
    assert updated.content == stored.content
    assert await store.get_messages(principal("bob"), MessageQuery(sid)) == []
    assert await count(store, "audit_log") == 3
    with pytest.raises(SharedContextError) as caught:
        await store.set_visibility(new_session_id(), stored.id, V.PUBLIC, audit("set"))
    assert caught.value.code is ErrorCode.MESSAGE_NOT_FOUND
    assert await count(store, "audit_log") == 3


async def test_recent_messages_are_the_newest_of_every_visibility(store: Any) -> None:
    sid = await open_session(store)
    made = []
    for i, visibility in enumerate([V.PUBLIC, V.PRIVATE, V.AGENT_ONLY, V.ADMIN_ONLY, V.PUBLIC]):
        stored, _ = await store.add_message(
            message(sid, f"m{i}", visibility=visibility), audit("add")
        )
        made.append(stored)
    assert await store.recent_messages(sid, 3) == made[-3:]
    assert await store.recent_messages(sid, 100) == made
    assert await store.recent_messages(new_session_id(), 5) == []


async def test_participants_are_in_byte_order_like_sqlite_binary(store: Any) -> None:
    sid = await open_session(store)
    for sender in ("alice", "Bob", "_x", "Zed", "éva"):
        await store.add_message(message(sid, "hi", sender=sender), audit("add"))
    assert await store.participants(principal("alice"), sid) == sorted(
        ["alice", "Bob", "_x", "Zed", "éva"]
    )
