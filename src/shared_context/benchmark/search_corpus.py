"""A fixed relevance corpus for search: messages and the queries that must find them.

Shared by ``tests/integration/test_search_relevance.py`` (which asserts the top results) and
``bench/search.py`` (which prints precision of the top 3 over it).
"""

from __future__ import annotations

from typing import Any

# key -> (content, metadata)
CORPUS: dict[str, tuple[str, dict[str, Any]]] = {
    "collab": ("Great collaboration between the frontend and backend teams this sprint.", {}),
    "schema": ("Finalised the database schema design for the orders service.", {}),
    "ticket": ("Fixed the null pointer crash in checkout, see POL-358 for details.", {}),
    "ticket_near": ("POL-359 tracks the flaky login test on CI.", {}),
    "ticket_short": ("Reviewed the cleanup for POL-35 and merged it.", {}),
    "meta_only": (
        "Attached the incident notes from last night.",
        {"ticket": "INC-7781", "component": "payment gateway", "severity": 2},
    ),
    "deploy": ("Deployment to staging succeeded after the migration ran.", {}),
    "rollback": ("Rolled back the production deploy because of a memory leak.", {}),
    "auth": ("Authentication tokens now expire after one hour.", {}),
    "cache": ("Cache invalidation bug: stale entries were served after a write.", {}),
    "latency": ("Search latency p95 is twelve milliseconds at one thousand messages.", {}),
    "review": ("Design review for the notification system is on Thursday.", {}),
    "pool": ("The database connection pool is exhausted under heavy load.", {}),
    "colour": ("Colour palette for the dashboard was approved by the designers.", {}),
    "coord": ("Coordination of the rollout across three regions starts Monday.", {}),
    "docs": ("Documentation for the public API now lists every error code.", {}),
    "tests": ("Flaky tests in the payment module were quarantined.", {}),
    "backup": ("Nightly backups are verified by restoring them into a scratch database.", {}),
    "lock": ("Agents must take the write lock before editing the shared plan.", {}),
    "memory": ("Agent memory entries expire after their time to live.", {}),
    "labels": ("Labelled the issues for the next milestone.", {}),
    "elaborate": ("Can you elaborate on the rationale for the new ration of reviewers?", {}),
    "schema_old": ("Old notes: schemas were drafted by hand.", {}),
    "gateway": ("The API gateway rate limits requests per key.", {"owner": "platform team"}),
}

# query -> keys that are relevant (the first is the one that must rank first)
QUERIES: dict[str, list[str]] = {
    "colaboration": ["collab"],
    "schema database design": ["schema"],
    "POL-358": ["ticket"],
    "INC-7781": ["meta_only"],
    "severity payment gateway incident": ["meta_only"],
    "memory leek in production": ["rollback"],
    "stale cache entries": ["cache"],
    "authentcation token expiry": ["auth"],
    "conection pool exhausted": ["pool"],
    "notification design review": ["review"],
    "deploy to staging": ["deploy"],
    "backups restored nightly": ["backup"],
    "write lock shared plan": ["lock"],
    "rollout coordination regions": ["coord"],
}


def precision_at_3(ranked_keys: list[str], relevant: list[str]) -> float:
    """Share of the relevant messages found in the top 3 (out of at most 3 relevant)."""
    if not relevant:
        return 1.0
    hits = len(set(ranked_keys[:3]) & set(relevant))
    return hits / min(3, len(relevant))
