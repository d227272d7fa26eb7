"""Rendered messages are shared across audiences (services/read_cache.py, level ``shapes``):
each message is rendered once however many audiences page over it, and the sharing never lets
one audience see another's private messages (counts of renders, not timings). The cache's
cheap sizers count what ``approx_size`` counts, so the byte bounds mean what they did."""

from __future__ import annotations

from pathlib import Path

from shared_context.bootstrap import open_services
from shared_context.cache import approx_size
from shared_context.domain.models import Message, Principal, Visibility
from shared_context.domain.permissions import Permission
from shared_context.services.read_cache import ReadCache, Window, message_bytes, window_bytes
from shared_context.services.results import message_shape
from tests.conftest import make_settings

RW = frozenset({Permission.READ, Permission.WRITE})
ANN = Principal("ann", "claude", RW)
BEN = Principal("ben", "claude", RW)
GUS = Principal("gus", "gemini", RW)


def renders(cache: ReadCache) -> int:
    return int(cache.stats()["shapes"]["renders"])


async def test_audiences_share_renders_and_never_each_others_private_messages(
    tmp_path: Path,
) -> None:
    async with open_services(make_settings(tmp_path / "d")) as app:
        cache = app.messages._cache
        assert cache is not None
        sid = (await app.sessions.create(ANN, "shapes", None)).session_id
        public = [(await app.messages.add(ANN, sid, f"public {i}")).message_id for i in range(5)]
        ann_own = (await app.messages.add(ANN, sid, "ann only", "private")).message_id
        ben_own = (await app.messages.add(BEN, sid, "ben only", "private")).message_id
        claude = (await app.messages.add(BEN, sid, "claudes", "agent_only")).message_id

        before = renders(cache)
        ann = await app.messages.get(ANN, sid)
        ben = await app.messages.get(BEN, sid)
        gus = await app.messages.get(GUS, sid)

        assert [m.id for m in ann.messages] == [*public, ann_own, claude]
        assert [m.id for m in ben.messages] == [*public, ben_own, claude]
        assert [m.id for m in gus.messages] == public
        # Three audiences, three page misses, but each distinct message rendered once.
        assert renders(cache) - before == len({*public, ann_own, ben_own, claude})
        assert cache.stats()["shapes"]["reused"] >= 2 * len(public)
        # The shared objects are the very shapes each audience got.
        assert ann.messages[0] is ben.messages[0] is gus.messages[0]
        ann_texts = {m.content for m in ann.messages}
        assert "ben only" not in ann_texts and "ann only" in ann_texts
        assert "ann only" not in {m.content for m in ben.messages}


async def test_a_visibility_change_renders_anew_and_hides_the_message(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d")) as app:
        cache = app.messages._cache
        assert cache is not None
        sid = (await app.sessions.create(ANN, "revis", None)).session_id
        mid = (await app.messages.add(ANN, sid, "soon private")).message_id
        await app.messages.add(ANN, sid, "stays public")
        assert [m.visibility for m in (await app.messages.get(BEN, sid)).messages] == [
            "public",
            "public",
        ]

        await app.messages.set_visibility(ANN, sid, mid, "private")
        before = renders(cache)
        ben = await app.messages.get(BEN, sid)
        ann = await app.messages.get(ANN, sid)
        assert [m.content for m in ben.messages] == ["stays public"]
        assert (ann.messages[0].id, ann.messages[0].visibility) == (mid, "private")
        assert renders(cache) - before == 1  # only the changed message; the other is shared

        await app.messages.add(GUS, sid, "a write: new version, new window rows")
        before = renders(cache)
        again = await app.messages.get(ANN, sid)
        assert renders(cache) - before == 1  # rows read anew but unchanged: not re-rendered
        stored = await app.store.get_message(sid, mid)
        assert stored is not None
        assert again.messages[0] == message_shape(stored)  # field for field what it renders


async def test_pages_are_sized_from_shapes_within_the_byte_bound(tmp_path: Path) -> None:
    async with open_services(make_settings(tmp_path / "d")) as app:
        cache = app.messages._cache
        assert cache is not None
        sid = (await app.sessions.create(ANN, "sizes", None)).session_id
        for i in range(30):
            await app.messages.add(ANN, sid, "x" * 500 + str(i))
        for viewer in (ANN, BEN, GUS):
            await app.messages.get(viewer, sid)
        stats = cache.stats()
        assert stats["pages"]["size"] == 3
        # Each page is counted in full (its shapes' content included), so the byte bound
        # still bounds what the pages level could pin even if shapes were evicted.
        assert stats["pages"]["bytes"] >= 3 * 30 * 500
        assert stats["shapes"]["size"] == 30
        assert stats["shapes"]["bytes"] <= stats["shapes"]["max_bytes"]


def test_the_window_sizer_counts_exactly_what_approx_size_counts() -> None:
    rows = tuple(
        Message(
            i,
            "session_0123456789abcdef",
            f"agent-{i}",
            "claude",
            "x" * i,
            list(Visibility)[i % 4],
            {"k": [i, {"n": None}], "t": "y" * i} if i % 2 else {},
            i - 1 if i % 3 else None,
            1.7e9 + i / 7,
        )
        for i in range(1, 40)
    )
    for message in rows:
        assert message_bytes(message) == approx_size(message)
    for complete in (True, False):
        window = Window(rows, complete)
        assert window_bytes(window) == approx_size(window)
