"""The goals ``scs bench`` checks: each check reads the suite's figures and returns rows of
``{"goal", "measured", "met"}``; a phase whose figures are missing adds no row. Another phase
(e.g. a search phase in its own module) adds its goals by appending a check to ``CHECKS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
Check = Callable[[dict[str, Any]], list[Row]]

#: Issue 15's scaling goals: 200 agents against 25 on the same server and machine.
THROUGHPUT_RATIO_MIN = 0.9
P95_RATIO_MAX = 4.0
RSS_RATIO_MAX = 1.5
CPU_MS_PER_CALL_MAX = 3.0


def row(goal: str, measured: str, met: bool) -> Row:
    return {"goal": goal, "measured": measured, "met": bool(met)}


def _phases(out: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {p["agents"]: p for p in out.get("concurrency", [])}


def tool_latency(out: dict[str, Any]) -> list[Row]:
    tools = out.get("single_agent", {}).get("tools")
    if not tools or "ping" not in tools:
        return []
    ping = tools["ping"]["p50_ms"]
    slowest = max((v["p50_ms"], k) for k, v in tools.items() if k != "ping")
    return [
        row(
            "every tool p50 <= 2x ping",
            f"{slowest[1]} {slowest[0]:.2f} ms vs ping {ping:.2f} ms",
            slowest[0] <= 2 * ping,
        )
    ]


def cpu_per_call(out: dict[str, Any]) -> list[Row]:
    single = out.get("single_agent")
    if not single:
        return []
    cpu = single["server_cpu_ms_per_op"]
    return [
        row(
            f"server CPU <= {CPU_MS_PER_CALL_MAX:g} ms per call (single agent)",
            f"{cpu:.3f} ms",
            cpu <= CPU_MS_PER_CALL_MAX,
        )
    ]


def small_crowd(out: dict[str, Any]) -> list[Row]:
    p = _phases(out).get(25)
    if p is None:
        return []
    return [
        row(
            "25 agents: >= 150 ops/s, p95 <= 250 ms",
            f"{p['throughput_ops_s']} ops/s, p95 {p['p95_ms']} ms",
            p["throughput_ops_s"] >= 150 and p["p95_ms"] <= 250,
        )
    ]


def big_crowd(out: dict[str, Any]) -> list[Row]:
    phases = _phases(out)
    big = phases.get(200)
    if big is None:
        return []
    rows = [
        row(
            "200 agents: 100 % success",
            f"{100 * big['success_rate']:.2f} %",
            big["success_rate"] == 1.0 and big["connect_failures"] == 0,
        )
    ]
    small = phases.get(25)
    if small is not None and small["throughput_ops_s"] and small["p95_ms"]:
        ratio = big["throughput_ops_s"] / small["throughput_ops_s"]
        rows.append(
            row(
                f"200 agents: throughput >= {THROUGHPUT_RATIO_MIN:.0%} of 25 agents",
                f"{ratio:.1%} ({big['throughput_ops_s']} vs {small['throughput_ops_s']} ops/s)",
                ratio >= THROUGHPUT_RATIO_MIN,
            )
        )
        p95 = big["p95_ms"] / small["p95_ms"]
        # Little's law for a closed loop (every agent calls again at once): mean latency is
        # agents / throughput, so 8x the agents at the measured throughputs means this
        # ratio of latencies from queueing alone, whatever the server does.
        floor = (big["agents"] / small["agents"]) / ratio
        rows.append(
            row(
                f"200 agents: p95 <= {P95_RATIO_MAX:g}x the 25-agent p95",
                f"{p95:.2f}x ({big['p95_ms']} vs {small['p95_ms']} ms; queueing alone at "
                f"these throughputs: {floor:.2f}x)",
                p95 <= P95_RATIO_MAX,
            )
        )
    return rows


def memory(out: dict[str, Any]) -> list[Row]:
    big = _phases(out).get(200)
    base = out.get("rss_mb_after_single")
    if big is None or not base:
        return []
    ratio = big["rss_mb"] / base
    return [
        row(
            f"RSS after 200 agents <= {RSS_RATIO_MAX:g}x RSS after single agent",
            f"{ratio:.2f}x ({big['rss_mb']} vs {base} MB)",
            ratio <= RSS_RATIO_MAX,
        )
    ]


def cache(out: dict[str, Any]) -> list[Row]:
    read_heavy = out.get("read_heavy")
    if not read_heavy:
        return []
    ratio = read_heavy["cache_hit_ratio_pages"]
    return [row("read-heavy cache hit ratio >= 70 %", f"{100 * ratio:.1f} %", ratio >= 0.7)]


CHECKS: list[Check] = [tool_latency, cpu_per_call, small_crowd, big_crowd, memory, cache]


def evaluate(out: dict[str, Any], checks: list[Check] | None = None) -> list[Row]:
    return [r for check in (CHECKS if checks is None else checks) for r in check(out)]
