"""A realistic search workload, generated from a seed: messages and a query mix.

Used by ``bench/search.py`` (latency, CPU per call, scorer study) and by the search tests
(candidate bounds as a session grows). ``search_corpus`` stays the small hand-labelled
relevance corpus; this one is about *cost* on text that looks like what agents post:

- messages: prose status updates, code snippets, log lines, Python stack traces and ticket
  updates, with identifiers (``POL-358``, ``INC-7781``), dotted module paths, snake_case and
  CamelCase names, numbers and JSON metadata;
- queries: drawn from random messages *without looking at the index*: single words and
  phrases with typos (deleted, swapped, doubled or substituted letters), reordered words,
  identifiers as typed and mistyped, code names, long pasted phrases, and words that occur
  nowhere. Each query remembers the message it came from (``source``), so a bench can report
  how often that message is found (a recall figure; the hand-labelled precision stays on
  ``search_corpus``).

Deterministic: the same seed gives the same messages and queries on every machine.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEED = 15

PROSE = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "for",
    "on",
    "is",
    "that",
    "with",
    "we",
    "it",
    "this",
    "be",
    "as",
    "at",
    "by",
    "from",
    "are",
    "was",
    "not",
    "should",
    "will",
    "can",
    "need",
    "after",
    "before",
    "when",
    "all",
    "new",
    "now",
    "next",
    "also",
    "still",
    "only",
    "then",
    "than",
    "because",
    "while",
    "about",
    "fix",
    "add",
    "update",
    "remove",
    "check",
    "test",
    "build",
    "deploy",
    "release",
    "review",
    "merge",
    "branch",
    "commit",
    "issue",
    "bug",
    "error",
    "log",
    "config",
    "service",
    "server",
    "client",
    "request",
    "response",
    "endpoint",
    "token",
    "session",
    "message",
    "agent",
    "memory",
    "lock",
    "cache",
    "queue",
    "worker",
    "job",
    "task",
    "plan",
    "step",
    "status",
    "report",
    "metric",
    "latency",
    "database",
    "query",
    "index",
    "table",
    "schema",
    "migration",
    "backup",
    "restore",
    "file",
    "path",
    "module",
    "function",
    "retry",
    "timeout",
    "rollout",
    "staging",
    "production",
    "canary",
    "rollback",
    "incident",
    "outage",
    "alert",
    "dashboard",
    "pipeline",
    "runner",
    "flaky",
    "regression",
    "benchmark",
    "profile",
    "allocation",
    "leak",
    "throughput",
    "upstream",
    "downstream",
    "gateway",
    "proxy",
    "certificate",
    "rotation",
    "credential",
    "permission",
    "quota",
    "limit",
    "shard",
    "replica",
    "failover",
    "snapshot",
    "vacuum",
    "payload",
    "serializer",
    "parser",
    "tokenizer",
    "scheduler",
    "dispatcher",
    "webhook",
    "listener",
    "consumer",
    "producer",
]

COMPONENTS = [
    "billing",
    "ledger",
    "checkout",
    "payments",
    "inventory",
    "search",
    "auth",
    "notifications",
    "gateway",
    "scheduler",
    "reporting",
    "analytics",
    "ingest",
    "exporter",
    "catalog",
    "orders",
    "shipping",
    "identity",
    "audit",
    "telemetry",
]

VERBS = [
    "load",
    "parse",
    "fetch",
    "sync",
    "flush",
    "reconcile",
    "validate",
    "render",
    "dispatch",
    "resolve",
    "encode",
]
NOUNS = [
    "config",
    "batch",
    "ledger",
    "token",
    "cursor",
    "snapshot",
    "record",
    "payload",
    "window",
    "segment",
    "index",
]
EXCEPTIONS = [
    "ValueError",
    "KeyError",
    "TimeoutError",
    "ConnectionResetError",
    "PermissionError",
    "IntegrityError",
    "OperationalError",
    "JSONDecodeError",
    "AssertionError",
    "RuntimeError",
]
PROJECTS = ["POL", "INC", "OPS", "SEC", "DEV", "DATA"]
LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    kind: str
    source: int  # index of the message it was drawn from; -1 when it matches nothing


def ticket(rng: random.Random) -> str:
    return f"{rng.choice(PROJECTS)}-{rng.randint(1, 9999)}"


def code_name(rng: random.Random) -> str:
    verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
    if rng.random() < 0.5:
        return f"{verb}_{rng.choice(COMPONENTS)}_{noun}"
    return f"{verb.title()}{rng.choice(COMPONENTS).title()}{noun.title()}"


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(PROSE) for _ in range(rng.randint(low, high)))


def prose(rng: random.Random) -> str:
    parts = [words(rng, 6, 18)]
    if rng.random() < 0.4:
        parts.append(f"see {ticket(rng)}")
    if rng.random() < 0.3:
        parts.append(f"in the {rng.choice(COMPONENTS)} service")
    text = " ".join(parts) + "."
    return text[0].upper() + text[1:]


def code(rng: random.Random) -> str:
    name = code_name(rng)
    arg = rng.choice(NOUNS)
    body = [
        f"def {name.lower()}({arg}, *, retries={rng.randint(1, 5)}):",
        "    for attempt in range(retries):",
        f"        result = client.{rng.choice(VERBS)}({arg}, timeout={rng.randint(1, 30)})",
        "        if result.ok:",
        f"            return result.{rng.choice(NOUNS)}",
        f"    raise {rng.choice(EXCEPTIONS)}('{words(rng, 2, 5)}')",
    ]
    return "```python\n" + "\n".join(body[: rng.randint(3, len(body))]) + "\n```"


def log_lines(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 6)):
        day, hour, minute = rng.randint(1, 30), rng.randint(0, 23), rng.randint(0, 59)
        stamp = f"2026-11-{day:02d}T{hour:02d}:{minute:02d}"
        component = rng.choice(COMPONENTS)
        lines.append(
            f"{stamp} {rng.choice(LEVELS)} {component}.{rng.choice(NOUNS)} "
            f"{words(rng, 3, 8)} id={rng.randint(10_000, 99_999)} "
            f"took={rng.randint(1, 5000)}ms"
        )
    return "\n".join(lines)


def stack_trace(rng: random.Random) -> str:
    frames = []
    for _ in range(rng.randint(2, 6)):
        module = f"{rng.choice(COMPONENTS)}/{rng.choice(NOUNS)}.py"
        frames.append(
            f'  File "src/{module}", line {rng.randint(1, 900)}, in {code_name(rng).lower()}'
        )
        frames.append(f"    {rng.choice(NOUNS)} = {rng.choice(VERBS)}({rng.choice(NOUNS)})")
    error = rng.choice(EXCEPTIONS)
    tail = f"{error}: {words(rng, 3, 7)}"
    return "Traceback (most recent call last):\n" + "\n".join([*frames, tail])


def ticket_update(rng: random.Random) -> str:
    return (
        f"{ticket(rng)}: {rng.choice(['opened', 'fixed', 'reopened', 'closed', 'triaged'])} "
        f"{words(rng, 4, 12)}; related {ticket(rng)} owner {rng.choice(COMPONENTS)} team"
    )


KINDS = [(prose, 0.40), (code, 0.12), (log_lines, 0.20), (stack_trace, 0.10), (ticket_update, 0.18)]


def metadata(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.7:
        return {}
    if roll < 0.85:
        return {"ticket": ticket(rng), "component": rng.choice(COMPONENTS)}
    return {"severity": rng.randint(1, 4), "tags": [rng.choice(PROSE), rng.choice(PROSE)]}


def messages(count: int, seed: int = SEED) -> Iterator[tuple[str, dict[str, Any]]]:
    """``count`` (content, metadata) pairs; the same seed gives the same sequence."""
    rng = random.Random(seed)
    makers, weights = zip(*KINDS, strict=True)
    for _ in range(count):
        maker = rng.choices(makers, weights=weights)[0]
        yield maker(rng), metadata(rng)


def typo(rng: random.Random, word: str) -> str:
    """One keyboard slip: a deleted, swapped, doubled or substituted letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _tokens(text: str) -> list[str]:
    return [t.strip(".,;:()[]{}'\"`=") for t in text.split() if len(t.strip(".,;:()'\"`=")) >= 3]


def query_mix(
    corpus: list[tuple[str, dict[str, Any]]], count: int, seed: int = SEED + 1
) -> list[Query]:
    """``count`` queries drawn from random messages of ``corpus`` (no index involved)."""
    rng = random.Random(seed)
    out: list[Query] = []
    kinds = ["typo_word", "phrase", "typo_phrase", "reordered", "identifier", "identifier_typo"]
    kinds += ["code_name", "long_phrase", "no_match", "typo_phrase", "typo_phrase"]
    while len(out) < count:
        kind = kinds[len(out) % len(kinds)]
        source = rng.randrange(len(corpus))
        content, meta = corpus[source]
        tokens = _tokens(content) or ["nothing"]
        if kind == "no_match":
            made_up = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9)))
            out.append(Query(f"{made_up} {rng.choice(PROSE)}", kind, -1))
            continue
        if kind in ("identifier", "identifier_typo"):
            ids = [t for t in tokens if "-" in t and t.split("-")[0] in PROJECTS]
            ids += [str(v) for v in meta.values() if isinstance(v, str) and "-" in v]
            if not ids:
                continue
            chosen = rng.choice(ids)
            text = chosen if kind == "identifier" else chosen.replace("-", rng.choice(["", " "]))
            out.append(Query(text, kind, source))
            continue
        if kind == "code_name":
            names = [
                t
                for t in tokens
                if "_" in t or (t.isalpha() and not t.isupper() and t[1:] != t[1:].lower())
            ]
            if not names:
                continue
            out.append(Query(typo(rng, rng.choice(names)), kind, source))
            continue
        if kind == "typo_word":
            tokens = [t for t in tokens if len(t) >= 5] or tokens
        size = {"typo_word": 1, "long_phrase": rng.randint(8, 12)}.get(kind, rng.randint(2, 4))
        start = rng.randrange(max(1, len(tokens) - size + 1))
        picked = tokens[start : start + size]
        if kind == "reordered":
            rng.shuffle(picked)
        if kind.startswith("typo"):
            for _ in range(1 if kind == "typo_word" else rng.randint(1, 2)):
                j = rng.randrange(len(picked))
                picked[j] = typo(rng, picked[j])
        out.append(Query(" ".join(picked).lower(), kind, source))
    return out
