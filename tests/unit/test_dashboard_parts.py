"""The dashboard's pure parts: thread order, highlighting, the metrics ring, stream bounds,
CSRF tokens, and the vendored files' checksums."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from starlette.requests import Request

from shared_context.web.dashboard import security
from shared_context.web.dashboard.data import MessageView
from shared_context.web.dashboard.render import MAX_DEPTH, environment, highlight, thread_order
from shared_context.web.dashboard.series import CHARTS, MetricsSeries, chart, figures
from shared_context.web.dashboard.stream import StreamLimits

VENDOR = Path(__file__).resolve().parents[2] / "src/shared_context/web/dashboard/static/vendor"


def msg(mid: int, parent: int | None = None, content: str = "x") -> MessageView:
    return MessageView(mid, "a", "t", content, "public", parent, "2026-01-01T00:00:00Z")


def test_thread_order_puts_replies_under_parents_without_recursion() -> None:
    rows = thread_order([msg(1), msg(2, 1), msg(3), msg(4, 2), msg(5, 1), msg(6, 99)])
    assert [(r.message.id, r.depth) for r in rows] == [
        (1, 0), (2, 1), (4, 2), (5, 1), (3, 0), (6, 0),
    ]  # fmt: skip
    chain = [msg(1)] + [msg(i, i - 1) for i in range(2, 3000)]  # far beyond recursion limits
    deep = thread_order(chain)
    assert len(deep) == 2999 and max(r.depth for r in deep) == MAX_DEPTH


def test_highlight_marks_words_and_escapes_everything_else() -> None:
    marked = str(highlight("<b>Tokenizer</b> and the token", "token"))
    assert marked == "&lt;b&gt;<mark>Token</mark>izer&lt;/b&gt; and the <mark>token</mark>"
    fuzzy = str(highlight("the colaboration plan", "collaboration"))
    assert fuzzy == "the <mark>colaboration</mark> plan"
    assert str(highlight("<i>", None)) == "&lt;i&gt;"
    assert str(highlight("a <script>", "script")) == "a &lt;<mark>script</mark>&gt;"


def test_templates_autoescape() -> None:
    template = environment().from_string("{{ value }}")
    assert template.render(value="<script>") == "&lt;script&gt;"


def test_series_is_bounded_and_computes_rates() -> None:
    snapshots = iter(
        {
            "tools": {"add_message": {"calls": 10 * i, "errors": i, "p95_ms": 2.0}},
            "totals": {"messages": 5 * i},
            "cache": {"pages": {"hits": 3, "misses": 1}},
            "database": {"size_bytes": 2_000_000},
            "dashboard": {"open_streams": 2},
        }
        for i in range(100)
    )
    clock = iter(float(i) for i in range(100))

    async def sample() -> dict[str, object]:
        return next(snapshots)

    series = MetricsSeries(sample, interval=1.0, points=5, clock=lambda: next(clock))

    async def take(n: int) -> None:
        for _ in range(n):
            await series.take()

    asyncio.run(take(8))
    assert len(series.samples) == 5  # the ring keeps only the newest
    last = series.samples[-1].figures
    assert last["calls_per_s"] == 10.0 and last["errors_per_s"] == 1.0
    assert last["cache_hit_ratio"] == 0.75 and last["db_mb"] == 2.0 and last["streams"] == 2
    charts = series.charts()
    assert [c.key for c in charts] == [key for key, _, _ in CHARTS]
    assert all(c.samples == 5 for c in charts)
    assert chart("x", "X", "", []).points == ""
    assert figures({}, None, 0.0)["calls_per_s"] == 0.0


def test_stream_limits_per_agent_and_total() -> None:
    limits = StreamLimits(total=3, per_agent=2)
    assert limits.acquire("a") and limits.acquire("a")
    assert not limits.acquire("a")  # per agent
    assert limits.acquire("b")
    assert not limits.acquire("c")  # total
    limits.release("a")
    assert limits.acquire("c") and limits.open == 3 and limits.refused == 2


def request(cookies: dict[str, str], headers: dict[str, str] | None = None) -> Request:
    raw = [(b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope: dict[str, Any] = {"type": "http", "headers": raw, "scheme": "http", "path": "/ui/login"}
    scope |= {"method": "POST", "server": ("127.0.0.1", 8000), "query_string": b""}
    return Request(scope)


def test_csrf_token_is_bound_to_the_browser_nonce() -> None:
    csrf = security.Csrf("s" * 40)
    nonce, new = csrf.nonce(request({}))
    assert new and len(nonce) >= 16
    same, again = csrf.nonce(request({security.CSRF_COOKIE: nonce}))
    assert same == nonce and not again
    token = csrf.token(nonce)
    assert csrf.valid(request({security.CSRF_COOKIE: nonce}), token)
    assert not csrf.valid(request({security.CSRF_COOKIE: nonce + "x"}), token)
    assert not csrf.valid(request({}), token)
    assert not security.Csrf("t" * 40).valid(request({security.CSRF_COOKIE: nonce}), token)


def test_same_origin_check() -> None:
    host = {"host": "127.0.0.1:8000"}
    assert security.same_origin(request({}, {**host, "origin": "http://127.0.0.1:8000"}))
    assert not security.same_origin(request({}, {**host, "origin": "http://evil.test"}))
    assert not security.same_origin(request({}, {**host, "origin": "http://127.0.0.1:9"}))
    assert security.same_origin(request({}, {**host, "referer": "http://127.0.0.1:8000/ui/x"}))
    assert not security.same_origin(request({}, {**host, "origin": "null"}))
    assert not security.same_origin(request({}, host))


def test_vendored_files_match_their_checksums() -> None:
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
