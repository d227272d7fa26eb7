"""Cached reads stay exact when two processes write to one SQLite file (SPEC §15).

Random interleavings of posts, visibility changes and reads, each made through one of two
server stacks sharing one database file (each with its own connections, cache, bus and change
relay, as two processes have). Every read is made twice (the second from the cache) and
compared with storage read directly. The change relay's poll is slowed to a second, so any
freshness must come from the check every cached read makes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_context.bootstrap import open_services
from shared_context.domain.models import visibility_name
from shared_context.services.container import Services
from tests.conftest import make_settings
from tests.security.test_cache_property import AGENTS, VIS, truth

ops = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 1), st.integers(0, 3), st.sampled_from(VIS)),
        st.tuples(st.just("revis"), st.integers(0, 1), st.integers(0, 40), st.sampled_from(VIS)),
        st.tuples(
            st.just("read"),
            st.integers(0, 1),
            st.integers(0, 3),
            st.integers(0, 3),
            st.sampled_from([2, 50]),
        ),
        st.tuples(st.just("count"), st.integers(0, 1), st.integers(0, 3)),
    ),
    min_size=5,
    max_size=40,
)


async def run_script(data_dir: Path, script: list[tuple]) -> None:  # type: ignore[type-arg]
    cfg = make_settings(data_dir, cache_window=16, change_poll_seconds=1.0)
    async with open_services(cfg) as one, open_services(cfg) as two:
        stacks = (one, two)
        sid = (await one.sessions.create(AGENTS[3], "cross", None)).session_id
        posted: list[tuple[int, int]] = []  # (message id, sender index)
        for op in script:
            app = stacks[op[1]]
            if op[0] == "post":
                who, vis = op[2], op[3]
                if vis == "admin_only" and who != 3:
                    vis = "public"
                body = await app.messages.add(
                    AGENTS[who], sid, f"m{len(posted)}", visibility_name(vis)
                )
                posted.append((body.message_id, who))
                await check_both(stacks, sid, op[2])
            elif op[0] == "revis" and posted:
                mid, who = posted[op[2] % len(posted)]
                vis = op[3] if who == 3 or op[3] != "admin_only" else "private"
                await app.messages.set_visibility(AGENTS[who], sid, mid, visibility_name(vis))
                await check_both(stacks, sid, op[2] % 4)
            elif op[0] == "read":
                viewer = AGENTS[op[2]]
                after = posted[op[3] % len(posted)][0] if posted and op[3] else None
                cursor = None if after is None else f"c{after}"
                for _ in range(2):  # the second read is served from the cache
                    got = await app.messages.get(viewer, sid, limit=op[4], cursor=cursor)
                    expected = await truth(app, viewer, sid, after, op[4])
                    assert [m.id for m in got.messages] == expected["ids"]
                    assert [m.visibility for m in got.messages] == expected["vis"]
                    assert got.has_more == expected["more"]
            elif op[0] == "count":
                viewer = AGENTS[op[2]]
                for _ in range(2):
                    detail = await app.sessions.get(viewer, sid)
                    expected = await truth(app, viewer, sid, None, 1000)
                    assert detail.session.message_count == len(expected["ids"])


async def check_both(stacks: tuple[Services, Services], sid: str, who: int) -> None:
    """After every write: the first page, as ``who`` sees it, read twice in each stack."""
    viewer = AGENTS[who]
    for app in stacks:
        for _ in range(2):
            got = await app.messages.get(viewer, sid, limit=50)
            expected = await truth(app, viewer, sid, None, 50)
            assert [m.id for m in got.messages] == expected["ids"]
            assert [m.visibility for m in got.messages] == expected["vis"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
def test_cached_reads_in_two_processes_equal_storage_reads(tmp_path_factory, script) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(run_script(tmp_path_factory.mktemp("cross"), script))
