"""Search never returns a message the visibility rule denies, whatever agents, visibilities,
queries and scopes are involved (property-based)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_context.domain.models import Message, Principal, Visibility
from shared_context.domain.permissions import AGENT_CEILING, ALL_PERMISSIONS
from shared_context.domain.visibility import can_see
from shared_context.services.container import Services

AGENTS = [
    Principal("alice", "claude", AGENT_CEILING),
    Principal("bob", "claude", AGENT_CEILING),
    Principal("gina", "gemini", AGENT_CEILING),
    Principal("root", "ops", ALL_PERMISSIONS),
    Principal("carl", "codex", ALL_PERMISSIONS),
]
WORDS = ["deploy", "secret", "plan", "POL-358", "rollback", "memory", "x", "zz", "lock"]

posts = st.lists(
    st.tuples(
        st.sampled_from(range(len(AGENTS))),
        st.sampled_from(list(Visibility)),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)
searches = st.lists(
    st.tuples(
        st.sampled_from(range(len(AGENTS))),
        st.one_of(
            st.sampled_from(WORDS),
            st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != ""),
        ),
        st.sampled_from(["all", "public", "private"]),
        st.sampled_from([0, 30, 60]),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(posts=posts, searches=searches)
async def test_search_returns_only_what_the_viewer_may_see(
    services: Services,
    posts: list[tuple[int, Visibility, list[str], bool]],
    searches: list[tuple[int, str, str, int]],
) -> None:
    owner = AGENTS[0]
    sid = (await services.sessions.create(owner, "privacy", None)).session_id
    stored = {}
    for author, visibility, words, with_meta in posts:
        sender = AGENTS[author]
        if visibility is Visibility.ADMIN_ONLY and not sender.is_admin:
            visibility = Visibility.PUBLIC
        meta = {"note": " ".join(reversed(words))} if with_meta else None
        added = await services.messages.add(sender, sid, " ".join(words), visibility.value, meta)
        stored[added.message_id] = (sender, visibility)
    for who, query, scope, threshold in searches:
        viewer = AGENTS[who]
        body = await services.search.search_context(
            viewer,
            sid,
            query,
            fuzzy_threshold=threshold,
            limit=100,
            search_scope=scope,  # type: ignore[arg-type]
        )
        assert body.success is True
        for result in body.results:
            message = result.message
            sender, visibility = stored[message.id]
            assert message.visibility == visibility.value

            as_value = Message(
                id=message.id,
                session_id=sid,
                sender=message.sender,
                sender_type=message.sender_type,
                content=message.content,
                visibility=visibility,
                metadata=message.metadata or {},
                parent_message_id=None,
                created_at=0.0,
            )
            assert can_see(viewer, as_value), (viewer, message)
            if scope == "private":
                assert visibility is Visibility.PRIVATE
                assert sender.agent_id == viewer.agent_id
            if scope == "public":
                assert visibility is Visibility.PUBLIC


async def test_structured_lookups_are_visibility_filtered(services: Services) -> None:
    alice, bob, gina = AGENTS[0], AGENTS[1], AGENTS[2]
    sid = (await services.sessions.create(alice, "lookups", None)).session_id
    for visibility in ("public", "private", "agent_only"):
        await services.messages.add(alice, sid, f"{visibility} from alice", visibility)
    for viewer, expected in ((alice, 3), (bob, 2), (gina, 1)):
        page = await services.search.by_sender(viewer, sid, "alice")
        assert page.count == expected, viewer
        ranged = await services.search.by_timerange(
            viewer, sid, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"
        )
        assert ranged.count == expected, viewer
