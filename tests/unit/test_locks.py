"""Session lock leases: races, expiry, renewal, forced unlock, restarts, the add_message guard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shared_context.bootstrap import open_services
from shared_context.domain.clock import ManualClock
from shared_context.domain.errors import SharedContextError
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS, Permission
from shared_context.events.bus import Event, EventKind
from shared_context.services.container import Services
from tests.conftest import make_settings


def agent(name: str, kind: str = "claude", *, admin: bool = False) -> Principal:
    return Principal(
        agent_id=name,
        agent_type=kind,
        permissions=ALL_PERMISSIONS if admin else AGENT_CEILING,
    )


async def new_session(app: Services, owner: Principal) -> str:
    sid: str = (await app.sessions.create(owner, "locks", None)).session_id
    return sid


async def error_of(coro: object) -> SharedContextError:
    with pytest.raises(SharedContextError) as info:
        await coro  # type: ignore[misc]
    return info.value


async def test_fifty_racers_exactly_one_winner_per_round(services: Services) -> None:
    locks = services.coordination.locks
    racers = [agent(f"racer-{i}") for i in range(50)]
    sid = await new_session(services, racers[0])

    async def attempt(p: Principal) -> str | None:
        try:
            await locks.coordinate(p, sid, "lock", ttl_seconds=30)
        except SharedContextError as exc:
            assert exc.code.value == "SESSION_LOCKED"
            assert exc.details["holder"].startswith("racer-")
            return None
        return p.agent_id

    for _ in range(100):
        winners = [w for w in await asyncio.gather(*(attempt(p) for p in racers)) if w]
        assert len(winners) == 1
        status = await locks.coordinate(racers[1], sid, "status")
        assert status.holder == winners[0]
        await locks.coordinate(agent(winners[0]), sid, "unlock")


async def test_lease_expires_when_not_renewed(
    clocked_services: Services, clock: ManualClock
) -> None:
    app = clocked_services
    locks = app.coordination.locks
    alice, bob = agent("alice"), agent("bob")
    sid = await new_session(app, alice)
    first = await locks.coordinate(alice, sid, "lock", ttl_seconds=10)
    assert first.ttl_remaining_seconds == 10
    clock.advance(6)
    renewed = await locks.coordinate(alice, sid, "renew", ttl_seconds=10)
    assert renewed.expires_at is not None and first.expires_at is not None
    assert renewed.expires_at > first.expires_at
    assert renewed.acquired_at == first.acquired_at
    clock.advance(9)  # 15 s after the first lock: still held thanks to the renewal
    err = await error_of(locks.coordinate(bob, sid, "lock"))
    assert err.code.value == "SESSION_LOCKED"
    assert err.to_dict()["holder"] == "alice"
    assert err.to_dict()["expires_at"] == renewed.expires_at
    blocked = await error_of(app.messages.add(bob, sid, "hello"))
    assert blocked.code.value == "SESSION_LOCKED"
    # Alice stops renewing: after the ttl the lease is gone for every check.
    clock.advance(1.01)
    assert (await locks.coordinate(bob, sid, "status")).locked is False
    await app.messages.add(bob, sid, "the lock expired")
    late = await error_of(locks.coordinate(alice, sid, "renew"))
    assert late.code.value == "LOCK_NOT_HELD"
    taken = await locks.coordinate(bob, sid, "lock", ttl_seconds=5)
    assert taken.holder == "bob"
    assert await locks.sweep() == 0  # bob's lease is live
    clock.advance(5)
    assert await locks.sweep() == 1
    assert locks.purged == 1


async def test_relock_by_holder_renews(clocked_services: Services, clock: ManualClock) -> None:
    locks = clocked_services.coordination.locks
    alice = agent("alice")
    sid = await new_session(clocked_services, alice)
    first = await locks.coordinate(alice, sid, "lock", ttl_seconds=5)
    clock.advance(3)
    again = await locks.coordinate(alice, sid, "lock", ttl_seconds=60)
    assert again.acquired_at == first.acquired_at
    assert again.ttl_remaining_seconds == 60


async def test_named_resources_are_separate_advisory_leases(services: Services) -> None:
    locks = services.coordination.locks
    alice, bob = agent("alice"), agent("bob")
    sid = await new_session(services, alice)
    held = await locks.coordinate(alice, sid, "lock", resource="src/app.py")
    assert held.resource == "src/app.py"
    err = await error_of(locks.coordinate(bob, sid, "lock", resource="src/app.py"))
    assert err.code.value == "SESSION_LOCKED" and err.details["resource"] == "src/app.py"
    await locks.coordinate(bob, sid, "lock", resource="src/other.py")
    # A resource lease is advisory: bob may still post to the session.
    await services.messages.add(bob, sid, "posting is fine")
    listed = await locks.list_locks(bob, sid)
    assert [entry.resource for entry in listed] == ["src/app.py", "src/other.py"]
    assert await locks.count_live() == 2
    # A non-write session-level lock type does not block posting either.
    await locks.coordinate(alice, sid, "lock", lock_type="review")
    await services.messages.add(bob, sid, "still fine")


async def test_unlock_rules_and_forced_unlock(services: Services) -> None:
    locks = services.coordination.locks
    alice, bob, root = agent("alice"), agent("bob"), agent("root", "ops", admin=True)
    sid = await new_session(services, alice)
    assert (await error_of(locks.coordinate(bob, sid, "unlock"))).code.value == "LOCK_NOT_HELD"
    await locks.coordinate(alice, sid, "lock")
    assert (await error_of(locks.coordinate(bob, sid, "unlock"))).code.value == "LOCK_NOT_HELD"
    denied = await error_of(locks.coordinate(bob, sid, "unlock", force=True))
    assert denied.code.value == "PERMISSION_DENIED"
    bad_force = await error_of(locks.coordinate(root, sid, "lock", force=True))
    assert bad_force.code.value == "PERMISSION_DENIED"
    forced = await locks.coordinate(root, sid, "unlock", force=True)
    released = forced.model_dump()  # an unlock's open fields
    assert released["released_holder"] == "alice" and released["forced"] is True
    assert (await locks.coordinate(bob, sid, "lock")).holder == "bob"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"action": "grab"}, "INVALID_INPUT"),
        ({"ttl_seconds": 4}, "INVALID_INPUT"),
        ({"ttl_seconds": 3601}, "INVALID_INPUT"),
        ({"ttl_seconds": 1.5}, "INVALID_INPUT"),
        ({"lock_type": ""}, "INVALID_INPUT"),
        ({"lock_type": "a b"}, "INVALID_INPUT"),
        ({"resource": "x" * 501}, "INVALID_INPUT"),
        ({"resource": "   "}, "INVALID_INPUT"),
        ({"resource": "a\nb"}, "INVALID_INPUT"),
        ({"resource": 5}, "INVALID_INPUT"),
    ],
)
async def test_bad_input(services: Services, args: dict[str, object], code: str) -> None:
    alice = agent("alice")
    sid = await new_session(services, alice)
    err = await error_of(services.coordination.locks.coordinate(alice, sid, **args))  # type: ignore[arg-type]
    assert err.code.value == code


async def test_permissions_and_missing_session(services: Services) -> None:
    locks = services.coordination.locks
    reader = Principal("reader", "claude", frozenset({Permission.READ}))
    sid = await new_session(services, agent("alice"))
    assert (await error_of(locks.coordinate(reader, sid, "lock"))).code.value == (
        "PERMISSION_DENIED"
    )
    assert (await locks.coordinate(reader, sid, "status")).locked is False
    missing = await error_of(locks.coordinate(reader, "session_0000000000000000", "status"))
    assert missing.code.value == "SESSION_NOT_FOUND"


async def test_lock_survives_restart_and_then_expires(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    clock = ManualClock()
    alice, bob = agent("alice"), agent("bob")
    async with open_services(settings, clock=clock) as app:
        sid = await new_session(app, alice)
        await app.coordination.locks.coordinate(alice, sid, "lock", ttl_seconds=20)
    clock.advance(5)
    async with open_services(settings, clock=clock) as app:
        status = await app.coordination.locks.coordinate(bob, sid, "status")
        assert status.holder == "alice"
        assert status.ttl_remaining_seconds == 15
        err = await error_of(app.messages.add(bob, sid, "x"))
        assert err.code.value == "SESSION_LOCKED"
        clock.advance(15)
        assert (await app.coordination.locks.coordinate(bob, sid, "lock")).holder == "bob"


async def test_closed_session_refuses_messages_even_to_the_lock_holder(services: Services) -> None:
    alice = agent("alice")
    sid = await new_session(services, alice)
    await services.coordination.locks.coordinate(alice, sid, "lock")
    await services.sessions.close(alice, sid)
    err = await error_of(services.messages.add(alice, sid, "too late"))
    assert err.code.value == "SESSION_LOCKED" and err.details["reason"] == "closed"


async def test_background_sweep_purges_expired_leases(tmp_path: Path) -> None:
    clock = ManualClock()
    settings = make_settings(tmp_path / "d", lock_sweep_seconds=0.02)
    async with open_services(settings, clock=clock) as app:
        alice = agent("alice")
        sid = await new_session(app, alice)
        await app.coordination.locks.coordinate(alice, sid, "lock", ttl_seconds=5)
        clock.advance(6)
        for _ in range(500):
            if app.coordination.locks.purged:
                break
            await asyncio.sleep(0.01)
        assert app.coordination.locks.purged == 1


async def test_lock_changes_are_audited_and_published(services: Services) -> None:
    events: list[Event] = []
    services.bus.subscribe(events.append)
    alice = agent("alice")
    sid = await new_session(services, alice)
    locks = services.coordination.locks
    await locks.coordinate(alice, sid, "lock", resource="a.txt")
    await locks.coordinate(alice, sid, "renew", resource="a.txt")
    await locks.coordinate(alice, sid, "unlock", resource="a.txt")
    changes = [e.data["action"] for e in events if e.kind is EventKind.LOCK_CHANGED]
    assert changes == ["lock", "renew", "unlock"]
    rows = await services.store.read(  # type: ignore[attr-defined]
        lambda conn: conn.execute(
            "SELECT json_extract(details, '$.action'), json_extract(details, '$.resource') "
            "FROM audit_log WHERE event_type = 'coordinate_session_work' ORDER BY id"
        ).fetchall()
    )
    assert rows == [("lock", "a.txt"), ("renew", "a.txt"), ("unlock", "a.txt")]
