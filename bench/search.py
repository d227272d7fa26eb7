"""Search benchmark: latency of search_context as one session grows, relevance, memory.

    uv run python -m bench.search [--sizes 1000,10000,100000] [--calls 200] [--http-calls 60]

Seeds one session in bulk through the storage layer (``store.write`` with ``executemany``, so
the FTS triggers run as they do for real writes), grows it to each size, and measures:
p50/p95 of ``search_context`` in-process and over real HTTP (a ``scs serve`` subprocess on a
free port, driven by ``fastmcp.Client``), the growth ratio of p95 (largest/smallest size),
precision@3 on the relevance corpus (hidden among the filler messages, oldest of all), the
same precision for alternative RapidFuzz scorers (exhaustive scoring, to justify the choice),
and the resident memory of the server process at the largest size. Prints a table and writes
``bench/out/search.json``. Figures only: no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from pydantic import SecretStr
from rapidfuzz import fuzz
from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET
from tests.search_corpus import CORPUS, QUERIES, precision_at_3

from shared_context.bootstrap import open_services
from shared_context.config import Settings
from shared_context.domain.models import Principal
from shared_context.domain.permissions import AGENT_CEILING
from shared_context.domain.validation import dumps
from shared_context.services.container import Services
from shared_context.services.search import score_text

OUT = Path(__file__).resolve().parent / "out" / "search.json"
SEARCHER = Principal("alice", "claude", AGENT_CEILING)


def word_list(text: str) -> list[str]:
    return text.split()


COMMON = word_list(
    """
    the a to of and in for on is that with we it this be as at by from are was not should will
    can need after before when all new now next fix add update remove check test build deploy
    release review merge branch commit issue bug error log config service server client
    request response api endpoint token session message agent memory lock cache queue worker
    job task plan step status report metric latency database query index table schema
    migration backup restore file path module function
    """
)
SYLLABLES = word_list(
    """
    ka lo mi ren tor vex sul pra din ko mer al zo qui bar fen gal hu ist jor ne pa ri sto ul
    ve wa xi yo zan bri cla dro eth fli gro hal ine jun kel lum mor nix oph
    """
)


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Common words plus 20,000 made-up ones, Zipf-weighted: realistic trigram spread."""
    made_up = sorted(
        {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(20_000)}
    )
    rng.shuffle(made_up)
    vocab_words = COMMON + made_up
    weights = [1.0 / (rank + 10) for rank in range(len(vocab_words))]
    total = 0.0
    cumulative = []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return vocab_words, cumulative


def filler(rng: random.Random, words: list[str], cum: list[float]) -> tuple[str, dict[str, Any]]:
    text = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(8, 30)))
    roll = rng.random()
    if roll < 0.1:
        text += f" see {rng.choice(['OPS', 'SEC', 'DEV'])}-{rng.randint(1, 9999)}"
    elif roll < 0.15:
        text += f" in src/{rng.choice(words)}/{rng.choice(words)}.py"
    meta: dict[str, Any] = {}
    if rng.random() < 0.2:
        meta = {"topic": rng.choice(words), "ticket": f"T-{rng.randint(1, 99999)}"}
    return text, meta


async def grow(
    app: Services, sid: str, rng: random.Random, vocab: Any, count: int, sample: list[str]
) -> float:
    """Append ``count`` filler messages in batched bulk writes; returns seconds taken. The
    first 1,000 filler texts are kept in ``sample`` for the scorer study."""
    words, cum = vocab
    senders = [("alice", "claude"), ("bob", "claude"), ("gina", "gemini"), ("carl", "codex")]
    started = time.perf_counter()
    done = 0
    while done < count:
        batch = []
        for _ in range(min(10_000, count - done)):
            content, meta = filler(rng, words, cum)
            sender, kind = rng.choice(senders)
            roll = rng.random()
            visibility = "public" if roll < 0.85 else "private" if roll < 0.95 else "agent_only"
            batch.append((sid, sender, kind, content, visibility, dumps(meta), time.time()))
            if len(sample) < 1000:
                sample.append(content)
        await app.store.write(_bulk_insert(batch))  # type: ignore[attr-defined]
        done += len(batch)
    return time.perf_counter() - started


def _bulk_insert(batch: list[tuple[Any, ...]]) -> Callable[[Any], None]:
    def fn(conn: Any) -> None:
        conn.executemany(
            "INSERT INTO messages (session_id, sender, sender_type, content, visibility, "
            "metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            batch,
        )

    return fn


def query_mix(rng: random.Random, words: list[str]) -> list[str]:
    picked = [w for w in words[len(COMMON) : len(COMMON) + 2000] if len(w) >= 6]
    typos = []
    for word in rng.sample(picked, 10):
        cut = rng.randrange(1, len(word) - 1)
        typos.append(word[:cut] + word[cut + 1 :])  # one deleted letter
    return [
        *QUERIES,
        *typos,
        "deploy release",
        "database migration schema",
        "OPS-4242",
        "db",
        "x",
        " ".join(rng.sample(picked, 12)),
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def in_process(app: Services, sid: str, queries: list[str], calls: int) -> dict[str, Any]:
    for query in queries[:5]:  # warm the read connections and caches
        await app.search.search_context(SEARCHER, sid, query)
    times, cpu = [], []
    for i in range(calls):
        started, started_cpu = time.perf_counter(), time.process_time()
        await app.search.search_context(SEARCHER, sid, queries[i % len(queries)])
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "p50_ms": round(pct(times, 0.5), 2),
        "p95_ms": round(pct(times, 0.95), 2),
        # CPU time of the whole process per call: what the search costs, independent of
        # how many other jobs share the machine's cores while it runs.
        "cpu_p50_ms": round(pct(cpu, 0.5), 2),
        "cpu_p95_ms": round(pct(cpu, 0.95), 2),
        "calls": calls,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


async def relevance(app: Services, sid: str, keys: dict[int, str]) -> float:
    scores = []
    for query, relevant in QUERIES.items():
        out = await app.search.search_context(SEARCHER, sid, query, limit=3)
        ranked = [keys.get(r["message"]["id"], "?") for r in out["results"]]
        scores.append(precision_at_3(ranked, relevant))
    return statistics.fmean(scores)


def scorer_study(texts: dict[str, str]) -> dict[str, float]:
    """Precision@3 of candidate scorers, scoring every text exhaustively (no index)."""
    candidates: dict[str, Callable[[str, str], float]] = {
        "WRatio": fuzz.WRatio,
        "QRatio": fuzz.QRatio,
        "partial_ratio": fuzz.partial_ratio,
        "token_set_ratio": fuzz.token_set_ratio,
        "max(WRatio, token_set, partial)": lambda q, t: max(
            fuzz.WRatio(q, t), fuzz.token_set_ratio(q, t), fuzz.partial_ratio(q, t)
        ),
        "shipped: max(partial|ratio, token_set)": score_text,
    }
    lowered = {k: v.lower() for k, v in texts.items()}
    study = {}
    for name, scorer in candidates.items():
        scores = []
        for query, relevant in QUERIES.items():
            q = query.lower()
            ranked = sorted(lowered, key=lambda k: -scorer(q, lowered[k]))
            scores.append(precision_at_3(ranked, relevant))
        study[name] = round(statistics.fmean(scores), 3)
    return study


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def over_http(data_dir: Path, sid: str, queries: list[str], calls: int) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "SCS_DATA_DIR": str(data_dir),
        "SCS_API_KEY": AGENT_KEY,
        "SCS_ADMIN_API_KEY": ADMIN_KEY,
        "SCS_JWT_SECRET": JWT_SECRET,
        "SCS_LOG_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "shared_context.cli.main", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    if (await http.get(base + "/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start")
                await asyncio.sleep(0.1)
        async with Client(StreamableHttpTransport(base + "/mcp")) as client:
            login = await client.call_tool(
                "authenticate_agent",
                {"agent_id": "alice", "agent_type": "claude", "api_key": AGENT_KEY},
            )
            token = login.structured_content["token"]  # type: ignore[index]
            times = []
            for i in range(calls + 5):
                started = time.perf_counter()
                result = await client.call_tool(
                    "search_context",
                    {"session_id": sid, "query": queries[i % len(queries)], "auth_token": token},
                )
                if i >= 5:  # the first calls warm the server
                    times.append((time.perf_counter() - started) * 1000)
                assert not result.is_error
        return {
            "p50_ms": round(pct(times, 0.5), 2),
            "p95_ms": round(pct(times, 0.95), 2),
            "calls": calls,
            "server_rss_mb": round(rss_mb(proc.pid), 1),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


async def run(sizes: list[int], calls: int, http_calls: int) -> dict[str, Any]:
    rng = random.Random(358)
    vocab = vocabulary(rng)
    queries = query_mix(rng, vocab[0])
    report: dict[str, Any] = {"sizes": {}, "queries": len(queries)}
    with tempfile.TemporaryDirectory(prefix="scs-bench-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            api_key=SecretStr(AGENT_KEY),
            admin_api_key=SecretStr(ADMIN_KEY),
            jwt_secret=SecretStr(JWT_SECRET),
        )
        async with open_services(settings) as app:
            sid = (await app.sessions.create(SEARCHER, "search bench", None))["session_id"]
            keys: dict[int, str] = {}
            for key, (content, meta) in CORPUS.items():  # oldest messages of the session
                added = await app.messages.add(SEARCHER, sid, content, "public", meta)
                keys[added["message_id"]] = key
            have = len(CORPUS)
            sample: list[str] = []
            for size in sizes:
                seeded = await grow(app, sid, rng, vocab, size - have, sample)
                have = size
                row: dict[str, Any] = {"seed_seconds": round(seeded, 1)}
                row["in_process"] = await in_process(app, sid, queries, calls)
                row["precision_at_3"] = round(await relevance(app, sid, keys), 3)
                row["http"] = await over_http(data_dir, sid, queries, http_calls)
                report["sizes"][str(size)] = row
                _print_row(size, row)
    texts = {k: c + " " + " ".join(str(v) for v in m.values()) for k, (c, m) in CORPUS.items()}
    texts.update({f"filler-{i}": text for i, text in enumerate(sample)})
    report["scorer_study_precision_at_3"] = scorer_study(texts)
    first, last = report["sizes"][str(sizes[0])], report["sizes"][str(sizes[-1])]
    report["growth_ratio_p95"] = {
        "in_process": round(last["in_process"]["p95_ms"] / first["in_process"]["p95_ms"], 2),
        "in_process_cpu": round(
            last["in_process"]["cpu_p95_ms"] / first["in_process"]["cpu_p95_ms"], 2
        ),
        "http": round(last["http"]["p95_ms"] / first["http"]["p95_ms"], 2),
        "of": f"{sizes[-1]}/{sizes[0]}",
    }
    report["goals"] = {"p95_ms_at_1000": 10, "p95_ms_at_100000": 50}
    report["machine"] = {"cpus": os.cpu_count(), "note": "shared with other jobs; see load"}
    return report


def _print_row(size: int, row: dict[str, Any]) -> None:
    ip, ht = row["in_process"], row["http"]
    print(
        f"{size:>8,} msgs | seed {row['seed_seconds']:>5}s | in-process p50 {ip['p50_ms']:6.2f} "
        f"p95 {ip['p95_ms']:6.2f} ms (cpu p50 {ip['cpu_p50_ms']:5.2f} p95 {ip['cpu_p95_ms']:6.2f})"
        f" | http p50 {ht['p50_ms']:6.2f} p95 {ht['p95_ms']:6.2f} ms "
        f"| P@3 {row['precision_at_3']:.3f} | server RSS {ht['server_rss_mb']} MB "
        f"| load {ip['load_average_1m']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--http-calls", type=int, default=60)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report = asyncio.run(run(sizes, args.calls, args.http_calls))
    print("scorer study (precision@3, exhaustive):")
    for name, value in report["scorer_study_precision_at_3"].items():
        print(f"  {value:.3f}  {name}")
    print(f"growth ratio of p95 {report['growth_ratio_p95']}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
