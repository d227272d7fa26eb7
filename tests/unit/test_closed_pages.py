"""Closed pages survive appends (services/read_cache.py): a page with more visible messages
after it is served from the cache after later posts, and is always what storage would return
now; a visibility change, in this process or another, drops it; a page at the session's end is
read anew after every post. Counts of storage reads and cache hits, not timings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from shared_context.bootstrap import open_services
from shared_context.cache import VersionedLRU
from shared_context.domain.models import Message, MessageQuery, Principal
from shared_context.domain.permissions import Permission
from shared_context.events.bus import Event, EventBus, EventKind
from shared_context.services.container import Services
from shared_context.services.read_cache import ReadCache
from shared_context.services.results import MessagePage
from tests.conftest import make_settings

RW = frozenset({Permission.READ, Permission.WRITE})
ANN = Principal("ann", "claude", RW)
BEN = Principal("ben", "gemini", RW)
#: The smallest window the settings allow: a session of 40 messages outgrows it.
SMALL_WINDOW = {"cache_window": 16}


Fetch = Callable[[Principal, MessageQuery], Awaitable[list[Message]]]


def counting_reads(app: Services) -> tuple[list[int], Fetch]:
    """Counts the storage page reads of ``app`` (get_messages past the window); returns the
    count and the uncounted read, for the checks."""
    store = app.store
    reads = [0]
    original: Fetch = store.get_messages

    async def counted(viewer: Principal, query: MessageQuery) -> list[Message]:
        reads[0] += 1
        return await original(viewer, query)

    store.get_messages = counted  # type: ignore[method-assign]
    return reads, original


async def truth(fetch: Fetch, viewer: Principal, sid: str, limit: int) -> list[int]:
    """What storage returns for the viewer's oldest-first page right now."""
    return [m.id for m in await fetch(viewer, MessageQuery(session_id=sid, limit=limit))]


async def seeded(app: Services, count: int = 40) -> tuple[str, list[int]]:
    sid = (await app.sessions.create(ANN, "closed pages", None)).session_id
    ids = []
    for i in range(count):
        visibility: Literal["public", "private"] = "private" if i % 5 == 0 else "public"
        ids.append((await app.messages.add(ANN, sid, f"note {i}", visibility)).message_id)
    return sid, ids


async def test_a_closed_page_is_served_after_appends_and_equals_storage(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d", **SMALL_WINDOW)) as app:
        sid, _ = await seeded(app)
        reads, fetch = counting_reads(app)
        first = await app.messages.get(BEN, sid, limit=10)
        assert first.has_more and reads[0] == 1  # past the window: read from storage
        for i in range(5):
            await app.messages.add(ANN, sid, f"later {i}")
            again = await app.messages.get(BEN, sid, limit=10)
            assert again == first
            assert [m.id for m in again.messages] == await truth(fetch, BEN, sid, 10)
        assert reads[0] == 1  # five posts, five reads, no storage read
        # Each audience has its own closed page: Ann sees her private notes in hers.
        ann = await app.messages.get(ANN, sid, limit=10)
        assert [m.id for m in ann.messages] == await truth(fetch, ANN, sid, 10)
        assert [m.id for m in ann.messages] != [m.id for m in first.messages]


async def test_a_page_at_the_end_of_the_session_is_read_anew_after_a_post(
    tmp_path: Path,
) -> None:
    async with open_services(make_settings(tmp_path / "d", **SMALL_WINDOW)) as app:
        sid, _ = await seeded(app, 8)
        whole = await app.messages.get(BEN, sid, limit=50)
        assert not whole.has_more
        added = (await app.messages.add(ANN, sid, "a new public note")).message_id
        after = await app.messages.get(BEN, sid, limit=50)
        assert after.messages[-1].id == added
        assert [m.id for m in after.messages] == await truth(app.store.get_messages, BEN, sid, 50)


async def test_a_visibility_change_drops_closed_pages(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d", **SMALL_WINDOW)) as app:
        sid, ids = await seeded(app)
        page = await app.messages.get(BEN, sid, limit=10)
        shown = page.messages[0].id
        await app.messages.set_visibility(ANN, sid, shown, "private")
        hidden = await app.messages.get(BEN, sid, limit=10)
        assert shown not in [m.id for m in hidden.messages]
        assert [m.id for m in hidden.messages] == await truth(app.store.get_messages, BEN, sid, 10)
        # And back: a message made public again reappears.
        await app.messages.set_visibility(ANN, sid, ids[0], "public")
        shown_again = await app.messages.get(BEN, sid, limit=10)
        assert shown_again.messages[0].id == ids[0]


async def test_another_process_posting_or_hiding_keeps_closed_pages_true(tmp_path: Path) -> None:
    data = tmp_path / "d"
    settings = make_settings(data, change_poll_seconds=1.0, **SMALL_WINDOW)
    async with open_services(settings) as one, open_services(settings) as two:
        sid, _ = await seeded(one)
        reads, fetch = counting_reads(one)
        page = await one.messages.get(BEN, sid, limit=10)
        await two.messages.add(ANN, sid, "posted by the other process")
        assert await one.messages.get(BEN, sid, limit=10) == page
        assert reads[0] == 1  # the other process's post did not drop the closed page
        victim = page.messages[3].id
        await two.messages.set_visibility(ANN, sid, victim, "private")
        now = await one.messages.get(BEN, sid, limit=10)
        assert victim not in [m.id for m in now.messages]  # seen at once, not at the poll
        assert [m.id for m in now.messages] == await truth(fetch, BEN, sid, 10)


async def builds_over_an_append(cache: ReadCache) -> int:
    """How often a page with more after it is built when read before and after an append."""
    builds: list[int] = []

    async def build() -> tuple[list[Message], bool]:
        builds.append(1)
        return [], True

    for version in (1, 2):  # an append moved the version on
        page = await cache.page("k", version, build, rewrites=cache.applied_rewrites("s"))
        assert isinstance(page, MessagePage)
    return len(builds)


async def test_without_ordered_appends_no_page_outlives_its_version(tmp_path: Path) -> None:
    """A cache told ids may commit out of order keeps pages under the full version only."""
    async with open_services(make_settings(tmp_path / "d")) as app:
        for ordered, builds_expected in ((True, 1), (False, 2)):
            cache = ReadCache(
                app.store,
                EventBus(),
                window_size=16,
                max_entries=100,
                ttl_seconds=60,
                appends_in_id_order=ordered,
            )
            assert await builds_over_an_append(cache) == builds_expected
            assert (cache.rewrites is None) is not ordered


def test_get_any_counts_one_lookup() -> None:
    lru: VersionedLRU[str] = VersionedLRU("t", 10, 60)
    lru.put("b", "value")
    assert lru.get_any(("a", "b")) == "value"
    assert lru.get_any(("a", "c")) is None
    assert (lru.hits, lru.misses) == (1, 1)


async def test_a_resync_drops_closed_pages(tmp_path: Path) -> None:
    """Changes may have been missed (the relay saw a gap): no closed page is trusted."""
    async with open_services(make_settings(tmp_path / "d", **SMALL_WINDOW)) as app:
        sid, _ = await seeded(app)
        reads, _ = counting_reads(app)
        await app.messages.get(BEN, sid, limit=10)
        await app.messages.get(BEN, sid, limit=10)
        assert reads[0] == 1
        app.bus.publish(Event(EventKind.RESYNC, origin="remote"))
        await app.messages.get(BEN, sid, limit=10)
        assert reads[0] == 2
