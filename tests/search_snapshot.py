"""The ranked answers of ``search_context`` over a fixed corpus: the relevance corpus plus 300
generated messages (``search_workload``), for the relevance queries and 40 generated ones, with
and without metadata. ``tests/search_golden.json`` holds the answers of the search code before
its scoring and candidate internals were optimised; the test compares against it.

    uv run python -m tests.search_snapshot   # rewrite the golden file (only on purpose)
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from shared_context.benchmark.search_corpus import CORPUS, QUERIES
from shared_context.benchmark.search_workload import messages, query_mix
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.services.container import Services

GOLDEN = Path(__file__).with_name("search_golden.json")
ALICE = Principal("alice", "claude", AGENT_CEILING)
GENERATED = 300


async def seed(app: Services) -> tuple[str, dict[int, str]]:
    """A session holding both corpora; returns (session id, message id -> key)."""
    sid = (await app.sessions.create(ALICE, "golden", None)).session_id
    keys: dict[int, str] = {}
    entries = [*CORPUS.items(), *((f"w{i}", m) for i, m in enumerate(messages(GENERATED)))]
    for key, (content, metadata) in entries:
        added = await app.messages.add(ALICE, sid, content, "public", metadata or None)
        keys[added.message_id] = key
    return sid, keys


def queries() -> list[str]:
    generated = query_mix(list(messages(GENERATED)), 40)
    return [*QUERIES, *(q.text for q in generated)]


async def snapshot(app: Services) -> dict[str, list[list[Any]]]:
    sid, keys = await seed(app)
    out: dict[str, list[list[Any]]] = {}
    for query in queries():
        for metadata in (True, False):
            body = await app.search.search_context(
                ALICE, sid, query, search_metadata=metadata, limit=10
            )
            out[f"{query} | metadata={metadata}"] = [
                [keys[r.message.id], r.score, r.matched_in, r.match_preview] for r in body.results
            ]
    return out


async def _write() -> None:
    from shared_context.bootstrap import open_services
    from tests.conftest import make_settings

    with tempfile.TemporaryDirectory() as tmp:
        async with open_services(make_settings(Path(tmp))) as app:
            answers = await snapshot(app)
    GOLDEN.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    sys.stderr.write(f"wrote {len(answers)} answers to {GOLDEN}\n")


if __name__ == "__main__":
    asyncio.run(_write())
