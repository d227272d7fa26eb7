"""``scs bench``: single-agent latencies beside ping, server CPU per operation, concurrent
mixed workloads, a read-heavy cache phase, resident memory; table + JSON; goals checked."""

from __future__ import annotations

import asyncio
import json
import math
import platform
import random
import time
from pathlib import Path
from typing import Any

from shared_context import heap
from shared_context.benchmark.goals import evaluate
from shared_context.benchmark.harness import ServerProcess
from shared_context.benchmark.report import summary_ms, table
from shared_context.benchmark.search_phase import render_search, search_goals, search_phase
from shared_context.benchmark.workload import MIX, READ_HEAVY, Agent, Outcome, choose

SEED_TARGETS_MS = {
    "create_session": 10,
    "add_message": 20,
    "get_messages": 30,
    "search_context": 100,
    "authenticate_agent": 100,
    "set_memory": 10,
    "get_memory": 10,
}


#: Messages posted in each session of a concurrent phase before it starts (a full page is 50).
SEED_MESSAGES = 60


async def single_agent(server: ServerProcess, iterations: int) -> dict[str, Any]:
    agent = Agent(server.url, "solo", "bench")
    await agent.connect()
    try:
        sid = (await agent.call("create_session", purpose="bench"))["session_id"]
        for i in range(60):
            await agent.call(
                "add_message", session_id=sid, content=f"seed message {i} about task {i}"
            )
        calls: dict[str, dict[str, Any]] = {
            "ping": {},
            "authenticate_agent": {"agent_id": "solo", "agent_type": "bench", "api_key": None},
            "create_session": {"purpose": "bench"},
            "add_message": {"session_id": sid, "content": "benchmark message"},
            "get_messages": {"session_id": sid, "limit": 50},
            "search_context": {"session_id": sid, "query": "task 42"},
            "set_memory": {"key": "bench", "value": {"x": 1}},
            "get_memory": {"key": "bench"},
            "register_agent_presence": {"status": "active"},
            "coordinate_session_work": {"session_id": sid, "action": "status"},
        }
        from shared_context.benchmark.harness import BENCH_AGENT_KEY

        calls["authenticate_agent"]["api_key"] = BENCH_AGENT_KEY
        results: dict[str, Any] = {}
        pinger = Agent(server.url, "pinger", "bench", mode="legacy")
        await pinger.connect()
        cpu_before, ops = server.cpu_seconds(), 0
        for tool, args in calls.items():
            outcome = Outcome()
            for _ in range(iterations):
                started = time.perf_counter()
                if tool == "ping":
                    await pinger.ping()
                    outcome.add(time.perf_counter() - started, True)
                else:
                    await agent.timed(outcome, tool, **dict(args))
                ops += 1
            results[tool] = {**summary_ms(outcome.latencies), "errors": outcome.failed}
        cpu_per_op_ms = 1000 * (server.cpu_seconds() - cpu_before) / max(1, ops)
        await pinger.close()
        return {"tools": results, "server_cpu_ms_per_op": round(cpu_per_op_ms, 3)}
    finally:
        await agent.close()


async def concurrent(
    server: ServerProcess,
    agents: int,
    ops_per_agent: int,
    mix: list[tuple[str, float]],
    seed: int,
    urls: list[str] | None = None,
    think_seconds: float = 0.0,
) -> dict[str, Any]:
    """Each agent lives in its own task (the SDK client must close where it opened): connect,
    wait until every agent is connected, run its operations, close. With ``urls`` (several
    instances sharing one database) the agents are spread over them in turn. With
    ``think_seconds`` each agent pauses before each operation, uniformly up to twice that (agents
    that think, as model-driven ones do, and do not start in step); without, it calls again at
    once (a closed loop)."""
    urls = urls or [server.url]
    owner = Agent(server.url, f"owner-{seed}", "bench")
    await owner.connect()
    sessions = [
        (await owner.call("create_session", purpose=f"load {seed}-{k}"))["session_id"]
        for k in range(5)
    ]
    # Full pages from the first call: otherwise a small crowd reads short pages (cheaper on
    # both sides) for much of its phase and a big one full pages, and the two do not compare.
    for sid in sessions:
        for i in range(SEED_MESSAGES):
            await owner.call("add_message", session_id=sid, content=f"seed {i}: task {i}")
    await owner.close()
    crowd = [Agent(urls[i % len(urls)], f"agent-{seed}-{i}", f"type{i % 3}") for i in range(agents)]
    settled = 0
    connect_failures = 0
    everyone_ready = asyncio.Event()
    started_at: list[float] = []
    cpu_at_start: list[tuple[float, float]] = []  # (server, client) when everyone is ready
    connect_started = time.perf_counter()

    def arrived() -> None:
        nonlocal settled
        settled += 1
        if settled == agents:
            started_at.append(time.perf_counter())
            cpu_at_start.append((server.cpu_seconds(), time.process_time()))
            everyone_ready.set()

    async def life(index: int, agent: Agent) -> Outcome:
        nonlocal connect_failures
        mine = Outcome()
        try:
            await agent.connect()
        except Exception:
            await agent.close()
            connect_failures += 1
            arrived()
            return mine
        try:
            arrived()
            await everyone_ready.wait()
            rng = random.Random(seed * 10_000 + index)
            session = sessions[index % len(sessions)]
            for step in range(ops_per_agent):
                if think_seconds:  # before the first call too: agents do not start in step
                    await asyncio.sleep(rng.uniform(0, 2 * think_seconds))
                await agent.mixed_op(rng, choose(rng, mix), session, mine, step)
        finally:
            await agent.close()
        return mine

    cpu_before, client_before = server.cpu_seconds(), time.process_time()
    outcomes = await asyncio.gather(*(life(i, a) for i, a in enumerate(crowd)))
    finished = time.perf_counter()
    client_cpu = time.process_time() - client_before
    cpu_at_end = (server.cpu_seconds(), time.process_time())
    total = Outcome()
    for outcome in outcomes:
        total.merge(outcome)
    cpu = server.cpu_seconds() - cpu_before
    wall = finished - (started_at[0] if started_at else connect_started)
    calls = total.ok + total.failed
    return {
        "agents": agents,
        "ops_per_agent": ops_per_agent,
        "think_seconds": think_seconds,
        "connect_failures": connect_failures,
        "connect_seconds": round((started_at[0] if started_at else finished) - connect_started, 2),
        "calls": calls,
        "success_rate": round(total.ok / calls, 4) if calls else 0.0,
        "throughput_ops_s": round(calls / wall, 1) if wall else 0.0,
        **summary_ms(total.latencies),
        "server_cpu_ms_per_op": round(1000 * cpu / max(1, calls), 3),
        # The load generator's own CPU (this process: the SDK clients), on the same cores.
        "client_cpu_ms_per_op": round(1000 * client_cpu / max(1, calls), 3),
        # The same two while the timed calls run (without connecting and closing).
        **_steady_cpu(cpu_at_start, cpu_at_end, calls),
        "errors": total.errors,
        "rss_mb": round(server.rss_bytes() / 2**20, 1),
    }


def _steady_cpu(
    start: list[tuple[float, float]], end: tuple[float, float], calls: int
) -> dict[str, float]:
    if not start or not calls:
        return {}
    return {
        "server_cpu_ms_per_op_steady": round(1000 * (end[0] - start[0][0]) / calls, 3),
        "client_cpu_ms_per_op_steady": round(1000 * (end[1] - start[0][1]) / calls, 3),
    }


async def cache_phase(server: ServerProcess, agents: int, ops_per_agent: int) -> dict[str, Any]:
    admin = Agent(server.url, "bench-admin", "ops", admin=True)
    await admin.connect()
    try:
        before = (await admin.call("get_performance_metrics")).get("cache", {})
        phase = await concurrent(server, agents, ops_per_agent, READ_HEAVY, seed=99)
        after = (await admin.call("get_performance_metrics")).get("cache", {})
    finally:
        await admin.close()
    hits = sum(
        after.get(level, {}).get("hits", 0) - before.get(level, {}).get("hits", 0)
        for level in after
    )
    misses = sum(
        after.get(level, {}).get("misses", 0) - before.get(level, {}).get("misses", 0)
        for level in after
    )
    pages_hits = after.get("pages", {}).get("hits", 0) - before.get("pages", {}).get("hits", 0)
    pages_misses = after.get("pages", {}).get("misses", 0) - before.get("pages", {}).get(
        "misses", 0
    )
    return {
        **phase,
        "cache_hit_ratio_all_levels": round(hits / (hits + misses), 4) if hits + misses else 0.0,
        "cache_hit_ratio_pages": round(pages_hits / (pages_hits + pages_misses), 4)
        if pages_hits + pages_misses
        else 0.0,
    }


#: Paced phases: agents pausing a mean of ``PACED_THINK`` seconds before each call (not a goal of
#: issue 15, whose p95 goal is for the closed loop; they show what concurrency itself costs
#: while the cores are not saturated).
PACED_THINK = 1.0
PACED_OPS = 20
PACED_SEED = 7_000

#: Calls the smallest concurrent phase makes at least: a 25-agent phase of 20 operations each
#: lasted ~2 s, too short for a stable throughput (146-382 ops/s on the same code).
MIN_CALLS_PER_PHASE = 2000


def phase_ops(agents: int, ops_per_agent: int, min_calls: int = MIN_CALLS_PER_PHASE) -> int:
    """Operations per agent: ``ops_per_agent``, more for a small crowd to reach ``min_calls``.
    The suite uses the figure of its smallest phase for every phase, so each agent does the
    same work whatever the crowd (per-agent costs weigh alike in every phase)."""
    return max(ops_per_agent, math.ceil(min_calls / max(1, agents)))


async def run_suite(
    *,
    iterations: int = 100,
    phases: tuple[int, ...] = (25, 100, 200),
    ops_per_agent: int = 20,
    min_calls: int = MIN_CALLS_PER_PHASE,
    search_sizes: tuple[int, ...] = (1000, 100_000),
    search_calls: int = 200,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
            "load_average_at_start": [round(x, 2) for x in __import__("os").getloadavg()],
            "client_event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        }
    }
    with ServerProcess() as server:
        out["rss_mb_start"] = round(server.rss_bytes() / 2**20, 1)
        out["single_agent"] = await single_agent(server, iterations)
        out["rss_mb_after_single"] = round(server.rss_bytes() / 2**20, 1)
        ops = phase_ops(min(phases, default=1), ops_per_agent, min_calls)
        out["concurrency"] = [await concurrent(server, n, ops, MIX, seed=n) for n in phases]
        out["read_heavy"] = await cache_phase(server, 10, max(ops_per_agent, 30))
        # Last, so the figures above are taken as in earlier runs.
        crowds = sorted(set(phases))
        if len(crowds) > 1:  # the smallest and the largest crowd again, thinking between calls
            out["paced"] = [
                await concurrent(
                    server, n, PACED_OPS, MIX, seed=PACED_SEED + n, think_seconds=PACED_THINK
                )
                for n in (crowds[0], crowds[-1])
            ]
    if search_sizes:  # its own server and data, after the suite's server has stopped
        out["search"] = await search_phase(search_sizes, search_calls, search_calls)
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    out["goals"] = goals(out)
    return out


def goals(out: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal row (``benchmark.goals.CHECKS``, then the search phase's): goal, measured
    value, met."""
    rows = evaluate(out)
    if "search" in out:
        rows.extend(search_goals(out["search"]))
    return rows


def phase_table(phases: list[dict[str, Any]]) -> str:
    """One row per concurrent phase (closed-loop or paced)."""
    return table(
        [
            "agents",
            "ops/agent",
            "calls",
            "success",
            "ops/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "cpu ms/op",
            "client cpu ms/op",
            "rss MB",
        ],
        [
            [
                p["agents"],
                p.get("ops_per_agent", "-"),
                p["calls"],
                f"{100 * p['success_rate']:.2f}%",
                p["throughput_ops_s"],
                p["p50_ms"],
                p["p95_ms"],
                p["p99_ms"],
                p["server_cpu_ms_per_op"],
                p.get("client_cpu_ms_per_op", "-"),
                p["rss_mb"],
            ]
            for p in phases
        ],
    )


def render(out: dict[str, Any]) -> str:
    tools = out["single_agent"]["tools"]
    parts = ["Single agent over Streamable HTTP (official MCP SDK client)"]
    parts.append(
        table(
            ["tool", "n", "p50 ms", "p95 ms", "seed target ms", "errors"],
            [
                [k, v["n"], v["p50_ms"], v["p95_ms"], SEED_TARGETS_MS.get(k, "-"), v["errors"]]
                for k, v in tools.items()
            ],
        )
    )
    parts.append(f"server CPU per operation: {out['single_agent']['server_cpu_ms_per_op']} ms")
    machine = out.get("machine", {})
    parts.append(
        f"RSS: {out.get('rss_mb_start')} MB at start, {out.get('rss_mb_after_single')} MB after "
        f"the single-agent phase; load average {machine.get('load_average_at_start')} at start, "
        f"{machine.get('load_average_at_end')} at end; load generator on "
        f"{machine.get('client_event_loop')}"
    )
    parts.append("\nConcurrent agents, mixed workload")
    parts.append(phase_table(out["concurrency"]))
    if out.get("paced"):
        think = out["paced"][0]["think_seconds"]
        parts.append(
            f"\nAgents that think (a pause of up to {2 * think:g} s, mean {think:g} s, before each"
            " call; not a goal)"
        )
        parts.append(phase_table(out["paced"]))
        small, big = out["paced"][0], out["paced"][-1]
        if small["p95_ms"]:
            parts.append(
                f"p95 at {big['agents']} agents: {big['p95_ms'] / small['p95_ms']:.2f}x the "
                f"{small['agents']}-agent p95"
            )
    rh = out["read_heavy"]
    parts.append(
        f"\nRead-heavy (90 % get_messages): {rh['throughput_ops_s']} ops/s, p95 {rh['p95_ms']} ms, "
        f"page cache hit ratio {100 * rh['cache_hit_ratio_pages']:.1f} %"
    )
    if "search" in out:
        parts.append(render_search(out["search"]))
    parts.append("\nGoals")
    parts.append(
        table(
            ["goal", "measured", "met"],
            [[g["goal"], g["measured"], "yes" if g["met"] else "NO"] for g in out["goals"]],
        )
    )
    return "\n".join(parts)


def main(json_path: Path | None = None, **kwargs: Any) -> dict[str, Any]:
    # The load generator runs like the server (uvloop, settled collector): its CPU shares
    # the same cores, and every millisecond it saves is one the server can use.
    previous = heap.settle()
    try:
        out = heap.run(run_suite(**kwargs))
    finally:
        heap.unsettle(previous)
    print(render(out))  # noqa: T201 - a command-line report
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(out, indent=2))
    return out
