"""SPEC §19: every cache is bounded in bytes as well as entries (issue 12: 100
``get_messages(limit=300)`` pages of 10,000-char messages grew RSS by 340 MB)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from shared_context.bootstrap import open_services
from shared_context.cache import SessionVersions, VersionedLRU, approx_size
from shared_context.domain.models import NewMessage, Visibility
from tests.conftest import make_settings
from tests.e2e.live import token_for

CACHE_BYTES = 8 * 1024 * 1024
# Unbounded, the 100 pages below would be kept whole: ~100 x 3 MB. Bounded, the cache holds
# at most CACHE_BYTES (estimated); the rest is allocator slack on a loaded machine.
RSS_BOUND_MB = 80


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_lru_is_bounded_by_bytes_as_well_as_entries() -> None:
    lru: VersionedLRU[str] = VersionedLRU("t", 1000, 60, max_bytes=10_000)
    for i in range(100):
        lru.put(i, "x" * 1000)
    stats = lru.stats()
    assert stats["bytes"] <= 10_000
    assert stats["size"] < 10  # entries well under max_entries: bytes decided
    assert stats["evictions"] >= 90
    assert lru.get(99) is not None  # the newest survive
    assert lru.get(0) is None
    lru.put("huge", "y" * 5000)  # over a quarter of the bound: not kept
    assert lru.get("huge") is None
    assert lru.stats()["oversize_skipped"] == 1
    lru.put(99, "small")  # replacing an entry accounts its old size
    assert lru.stats()["bytes"] <= 10_000
    assert lru.trim() == 0


def test_size_estimate_tracks_content() -> None:
    small = {"messages": [{"content": "a"}] * 3}
    large = {"messages": [{"content": "a" * 10_000} for _ in range(3)]}
    assert approx_size(large) - approx_size(small) >= 29_990
    assert approx_size(b"12345") > 5
    assert approx_size(object()) > 0


def test_session_versions_are_bounded_and_never_reuse_a_version() -> None:
    versions = SessionVersions(max_sessions=3)
    handed_out = set()
    for sid in ("a", "b", "c", "a", "d", "e", "a", "f"):
        versions.bump(sid)
        handed_out.add((sid, versions.current(sid)))
    assert versions.stats()["tracked"] <= 3
    assert versions.stats()["resets"] >= 1
    # After a reset a session's version moves to a new generation, never back to an old one.
    before = versions.current("zz")
    versions.bump("zz")
    assert versions.current("zz") != before
    assert len(handed_out) == 8


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS read from /proc")
async def test_many_large_pages_keep_memory_bounded(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "d", cache_max_bytes=CACHE_BYTES)
    async with open_services(settings) as app:
        token = await token_for(app, "reader")
        reader = await app.auth.resolve(token)
        sid = (await app.sessions.create(reader, "big", None)).session_id
        for i in range(400):  # stored without going through the cache
            await app.store.add_message(
                NewMessage(
                    sid, "w", "claude", f"{i:05d}" + "x" * 9995, Visibility.PUBLIC, {}, None, 0.0
                ),
                app.audit.event("add_message", None, agent_id="w", session_id=sid),
            )
        await app.messages.get(reader, sid, limit=300)  # warm every code path
        gc.collect()
        before = rss_mb()
        for i in range(100):  # 100 distinct pages of 300 messages of 10,000 chars
            page = await app.messages.get(reader, sid, limit=300, since_id=i)
            assert len(page.messages) == 300
            del page
        gc.collect()
        grown = rss_mb() - before
        stats = (await app.metrics.snapshot()).cache  # as get_performance_metrics shows
        total = sum(level["bytes"] for level in stats.values())
        assert total <= CACHE_BYTES
        assert stats["pages"]["evictions"] + stats["pages"]["oversize_skipped"] > 0
        assert grown < RSS_BOUND_MB, f"RSS grew {grown:.1f} MB for 100 large pages"
