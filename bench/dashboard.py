"""Dashboard figures on a real ``scs serve`` (subprocess, SQLite, 127.0.0.1).

1. commit → shown: Chromium (Playwright, /usr/bin/chromium) shows a session page; an agent
   posts public messages over MCP one at a time; a MutationObserver in the page stamps the
   moment each message element is inserted (Date.now()). Reported from the moment the
   add_message response reached the poster (the commit is acknowledged then; the server
   publishes to the bus right after COMMIT) and from the moment the call was sent.
2. server cost of open dashboard streams: 50 viewers (distinct identities) hold a live stream
   each. Measured from /proc for the server process: CPU seconds while idle (heartbeats only)
   and while an agent posts messages (each is rendered for and sent to every viewer), RSS,
   and add_message round trips, with 0 and with 50 streams; plus the fan-out time from commit
   to the last of the 50 streams receiving the message.

A /health round trip (ping) is measured in the same run: ratios to it are what carry over to
another machine. Needs the ``browser`` group for part 1 (``uv sync --group browser``).

    uv run python -m bench.dashboard [--posts 60] [--streams 50]

Prints a table and writes bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.e2e.dashboard_support import CHROMIUM, CHROMIUM_ARGS, frames, http_login
from tests.helpers import AGENT_KEY
from tests.server_process import ServerProcess, sdk_call, sdk_client, server_env

OUT = Path(__file__).resolve().parent / "results" / "dashboard.json"
TICK = os.sysconf("SC_CLK_TCK")
OBSERVER = """() => {
  window.__shown = {};
  new MutationObserver((records) => {
    const now = Date.now();
    for (const r of records) for (const n of r.addedNodes)
      if (n.id && n.id.startsWith("msg-")) window.__shown[n.id.slice(4)] = now;
  }).observe(document.getElementById("messages"), {childList: true, subtree: true});
}"""


def pct(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": at(0.95),
        "max_ms": round(ordered[-1], 2),
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def ping(base: str, n: int = 50) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base) as client:
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            await client.get("/health")
            samples.append((time.perf_counter() - started) * 1000)
    return pct(samples)


async def commit_to_shown(server: ServerProcess, token: str, sid: str, posts: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=server.base)
        page = await context.new_page()
        await page.goto("/ui/login")
        await page.get_by_label("API key").fill(AGENT_KEY)
        await page.get_by_label("Agent id").fill("watcher")
        await page.get_by_label("Agent type").fill("human")
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url("**/ui/sessions")
        await page.goto(f"/ui/sessions/{sid}")
        await page.wait_for_selector("#live-status:has-text('Live')")
        await page.evaluate(OBSERVER)
        sent: dict[int, tuple[float, float]] = {}
        async with sdk_client(server.url) as mcp:
            for i in range(posts):
                started = time.time()
                body = await sdk_call(
                    mcp, "add_message", session_id=sid, content=f"bench {i}", auth_token=token
                )
                sent[body["message_id"]] = (started, time.time())
                await page.wait_for_selector(f"#msg-{body['message_id']}", state="attached")
        shown: dict[str, float] = await page.evaluate("window.__shown")
        await browser.close()
    from_ack = [shown[str(m)] - ack * 1000 for m, (_, ack) in sent.items() if str(m) in shown]
    from_send = [shown[str(m)] - s * 1000 for m, (s, _) in sent.items() if str(m) in shown]
    return {"from_ack": pct(from_ack), "from_send": pct(from_send)}


async def post_round_trips(
    server: ServerProcess, token: str, sid: str, posts: int
) -> tuple[dict[str, float], float, list[tuple[int, float]]]:
    pid = server.proc.pid if server.proc else 0
    samples, acks = [], []
    async with sdk_client(server.url) as mcp:
        cpu0 = cpu_seconds(pid)
        for i in range(posts):
            started = time.perf_counter()
            body = await sdk_call(
                mcp, "add_message", session_id=sid, content=f"load {i}", auth_token=token
            )
            samples.append((time.perf_counter() - started) * 1000)
            acks.append((int(body["message_id"]), time.time()))
        cpu = cpu_seconds(pid) - cpu0
    return pct(samples), round(cpu, 3), acks


async def stream_cost(  # type: ignore[no-untyped-def]
    server: ServerProcess, token: str, sid: str, streams: int, posts: int
):
    pid = server.proc.pid if server.proc else 0
    idle_window = 5.0
    result: dict[str, Any] = {}
    rss0 = rss_mb(pid)
    cpu0 = cpu_seconds(pid)
    await asyncio.sleep(idle_window)
    result["idle_cpu_s_0_streams"] = round(cpu_seconds(pid) - cpu0, 3)
    result["rtt_0_streams"], result["post_cpu_s_0_streams"], _ = await post_round_trips(
        server, token, sid, posts
    )
    async with sdk_client(server.url) as mcp:
        marker = await sdk_call(
            mcp, "add_message", session_id=sid, content="marker", auth_token=token
        )
    after = int(marker["message_id"])
    clients = [httpx.AsyncClient(base_url=server.base, timeout=60) for _ in range(streams)]
    received: list[dict[int, float]] = [{} for _ in range(streams)]
    opened = asyncio.Event()
    ready = [0]

    async def viewer(i: int) -> None:
        client = clients[i]
        await http_login(client, AGENT_KEY, f"viewer{i}", "human", write=False)
        async with client.stream("GET", f"/ui/sessions/{sid}/stream?after={after}") as live:
            assert live.status_code == 200, live.status_code
            ready[0] += 1
            if ready[0] == streams:
                opened.set()
            async for frame in frames(live, time.monotonic() + 600):
                for mid, _ in frame.messages():
                    received[i][mid] = time.time()

    tasks = [asyncio.create_task(viewer(i)) for i in range(streams)]
    try:
        await asyncio.wait_for(opened.wait(), 120)
        result["rss_mb_0_streams"] = rss0
        result["rss_mb_with_streams"] = rss_mb(pid)
        cpu0 = cpu_seconds(pid)
        await asyncio.sleep(idle_window)
        result["idle_cpu_s_with_streams"] = round(cpu_seconds(pid) - cpu0, 3)
        rtt, cpu, acks = await post_round_trips(server, token, sid, posts)
        result["rtt_with_streams"], result["post_cpu_s_with_streams"] = rtt, cpu
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            len(r) < len({m for m, _ in acks}) for r in received
        ):
            await asyncio.sleep(0.1)
        fan_out = []
        for mid, ack in acks:
            times = [r[mid] for r in received if mid in r]
            if len(times) == streams:
                fan_out.append((max(times) - ack) * 1000)
        result["commit_to_last_stream"] = pct(fan_out)
        result["messages_delivered_to_all"] = len(fan_out)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.aclose()
    result["idle_window_s"] = idle_window
    result["posts"] = posts
    result["streams"] = streams
    return result


async def main(posts: int, streams: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = server_env(data, SCS_DASHBOARD_MAX_STREAMS=str(max(200, streams + 10)))
        with ServerProcess(data, env=env).start() as server:
            async with sdk_client(server.url) as mcp:
                auth = await sdk_call(
                    mcp, "authenticate_agent", agent_id="poster", agent_type="bench",
                    api_key=AGENT_KEY,
                )  # fmt: skip
                token = auth["token"]
                sid = (await sdk_call(mcp, "create_session", purpose="bench", auth_token=token))[
                    "session_id"
                ]
            out: dict[str, Any] = {"ping_health": await ping(server.base)}
            try:
                out["commit_to_shown"] = await commit_to_shown(server, token, sid, posts)
            except ImportError:
                out["commit_to_shown"] = "skipped: uv sync --group browser"
            out["streams"] = await stream_cost(server, token, sid, streams, posts)
    out["load_average_at_end"] = os.getloadavg()
    out["cpus"] = os.cpu_count()
    return out


def report(out: dict[str, Any]) -> None:
    ping_p50 = out["ping_health"]["p50_ms"]
    print(f"ping /health p50 {ping_p50} ms; load average {out['load_average_at_end']}")
    shown = out["commit_to_shown"]
    if isinstance(shown, dict):
        for key in ("from_ack", "from_send"):
            fig = shown[key]
            print(
                f"commit→shown ({key}): p50 {fig['p50_ms']} ms, p95 {fig['p95_ms']} ms "
                f"(p50 = {fig['p50_ms'] / ping_p50:.1f}× ping), n={fig['n']}"
            )
    s = out["streams"]
    print(
        f"{s['streams']} streams: idle CPU {s['idle_cpu_s_with_streams']} s per "
        f"{s['idle_window_s']} s (0 streams: {s['idle_cpu_s_0_streams']} s); RSS "
        f"{s['rss_mb_0_streams']} → {s['rss_mb_with_streams']} MB"
    )
    print(
        f"{s['posts']} posts: server CPU {s['post_cpu_s_with_streams']} s with streams, "
        f"{s['post_cpu_s_0_streams']} s without; add_message p50 "
        f"{s['rtt_with_streams']['p50_ms']} / p95 {s['rtt_with_streams']['p95_ms']} ms with, "
        f"{s['rtt_0_streams']['p50_ms']} / {s['rtt_0_streams']['p95_ms']} ms without"
    )
    fan = s["commit_to_last_stream"]
    print(
        f"commit → last of {s['streams']} streams: p50 {fan.get('p50_ms')} ms, "
        f"p95 {fan.get('p95_ms')} ms ({s['messages_delivered_to_all']} messages)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--streams", type=int, default=50)
    args = parser.parse_args()
    result = asyncio.run(main(args.posts, args.streams))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    report(result)
