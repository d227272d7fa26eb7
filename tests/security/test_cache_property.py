"""The read cache never serves a stale result or another audience's result.

Random interleavings of posts, visibility changes and reads by several agents; every cached
read is compared with the same read answered by storage directly (no cache)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_context.bootstrap import open_services
from shared_context.domain.models import MessageQuery, Principal, visibility_name
from shared_context.domain.permissions import Permission
from shared_context.services.container import Services
from tests.conftest import make_settings

AGENTS = [
    Principal("ann", "claude", frozenset({Permission.READ, Permission.WRITE})),
    Principal("ben", "claude", frozenset({Permission.READ, Permission.WRITE})),
    Principal("gus", "gemini", frozenset({Permission.READ, Permission.WRITE})),
    Principal("ops", "ops", frozenset(Permission)),
]
VIS = ["public", "private", "agent_only", "admin_only"]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 3), st.sampled_from(VIS)),
        st.tuples(st.just("revis"), st.integers(0, 3), st.sampled_from(VIS)),
        st.tuples(st.just("read"), st.integers(0, 3), st.integers(0, 1), st.sampled_from([2, 50])),
    ),
    min_size=5,
    max_size=40,
)


async def truth(app: Services, viewer: Principal, sid: str, after: int | None, limit: int) -> dict:
    found = await app.store.get_messages(
        viewer, MessageQuery(session_id=sid, limit=limit + 1, after_id=after)
    )
    return {
        "ids": [m.id for m in found[:limit]],
        "more": len(found) > limit,
        "vis": [m.visibility.value for m in found[:limit]],
    }


async def run_script(data_dir: Path, script: list[tuple]) -> None:
    cfg = make_settings(data_dir, cache_window=16)
    async with open_services(cfg) as app:
        sid = (await app.sessions.create(AGENTS[3], "cache", None)).session_id
        posted: list[tuple[int, int]] = []  # (message id, sender index)
        for op in script:
            if op[0] == "post":
                who, vis = op[1], op[2]
                if vis == "admin_only" and who != 3:
                    vis = "public"
                body = await app.messages.add(
                    AGENTS[who], sid, f"m{len(posted)}", visibility_name(vis)
                )
                posted.append((body.message_id, who))
            elif op[0] == "revis" and posted:
                mid, who = posted[op[1] % len(posted)]
                vis = op[2] if who == 3 or op[2] != "admin_only" else "private"
                await app.messages.set_visibility(AGENTS[who], sid, mid, visibility_name(vis))
            elif op[0] == "read":
                viewer = AGENTS[op[1]]
                after = posted[op[2] % len(posted)][0] if posted and op[2] else None
                cursor = None if after is None else f"c{after}"
                for _ in range(2):  # the second read is served from the cache
                    got = await app.messages.get(viewer, sid, limit=op[3], cursor=cursor)
                    expected = await truth(app, viewer, sid, after, op[3])
                    assert [m.id for m in got.messages] == expected["ids"]
                    assert [m.visibility for m in got.messages] == expected["vis"]
                    assert got.has_more == expected["more"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
def test_cached_reads_equal_storage_reads(tmp_path_factory, script) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(run_script(tmp_path_factory.mktemp("cache"), script))


async def test_cache_counts_hits(services: Services) -> None:
    sid = (await services.sessions.create(AGENTS[0], "hits", None)).session_id
    await services.messages.add(AGENTS[0], sid, "hello")
    for _ in range(5):
        await services.messages.get(AGENTS[1], sid)
    stats = (await services.metrics.snapshot()).cache
    assert stats["pages"]["hits"] == 4
    assert stats["pages"]["misses"] == 1
    assert stats["pages"]["hit_ratio"] == 0.8
