"""Agents as the benchmark drives them: one MCP SDK client connection and identity each."""

from __future__ import annotations

import random
import time
import warnings
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from mcp import Client

from shared_context.benchmark.harness import BENCH_ADMIN_KEY, BENCH_AGENT_KEY

MIX: list[tuple[str, float]] = [
    ("get_messages", 0.40),
    ("add_message", 0.20),
    ("search_context", 0.10),
    ("memory", 0.10),
    ("wait_or_presence", 0.10),
    ("lock", 0.10),
]
READ_HEAVY: list[tuple[str, float]] = [("get_messages", 0.9), ("add_message", 0.1)]


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, seconds: float, success: bool, code: str = "") -> None:
        self.latencies.append(seconds)
        if success:
            self.ok += 1
        else:
            self.failed += 1
            self.errors[code] = self.errors.get(code, 0) + 1

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.ok += other.ok
        self.failed += other.failed
        for code, count in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + count


class Agent:
    def __init__(
        self,
        url: str,
        agent_id: str,
        agent_type: str = "bench",
        admin: bool = False,
        mode: str = "auto",
    ):
        self.url = url
        self.mode = mode
        self.agent_id = agent_id
        self.agent_type = agent_type
        self.admin = admin
        self.token = ""
        self.client: Client | None = None
        self._stack = AsyncExitStack()

    async def connect(self) -> None:
        self.client = await self._stack.enter_async_context(Client(self.url, mode=self.mode))
        body = await self.call(
            "authenticate_agent",
            agent_id=self.agent_id,
            agent_type=self.agent_type,
            api_key=BENCH_ADMIN_KEY if self.admin else BENCH_AGENT_KEY,
            requested_permissions=["read", "write", "admin"] if self.admin else ["read", "write"],
        )
        self.token = body["token"]

    async def close(self) -> None:
        await self._stack.aclose()

    async def raw(self, tool: str, **args: Any) -> tuple[bool, dict[str, Any]]:
        assert self.client is not None
        if self.token and tool != "authenticate_agent":
            args["auth_token"] = self.token
        result = await self.client.call_tool(tool, args)
        body = result.structured_content or {}
        return (not result.is_error), body

    async def call(self, tool: str, **args: Any) -> dict[str, Any]:
        ok, body = await self.raw(tool, **args)
        if not ok:
            raise RuntimeError(f"{tool} failed: {body}")
        return body

    async def ping(self) -> None:
        """MCP ping; protocol 2026-07-28 dropped it, so it needs a mode='legacy' connection."""
        assert self.client is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK warns that ping is legacy-only: we know
            await self.client.send_ping()

    async def timed(self, outcome: Outcome, tool: str, **args: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            ok, body = await self.raw(tool, **args)
        except Exception as exc:
            outcome.add(time.perf_counter() - started, False, type(exc).__name__)
            return {}
        outcome.add(time.perf_counter() - started, ok, str(body.get("code", "")))
        return body

    async def mixed_op(
        self, rng: random.Random, kind: str, session_id: str, outcome: Outcome, step: int
    ) -> None:
        if kind == "get_messages":
            await self.timed(outcome, "get_messages", session_id=session_id, limit=50)
        elif kind == "add_message":
            await self.timed(
                outcome,
                "add_message",
                session_id=session_id,
                content=f"{self.agent_id} step {step}: progress on task {rng.randint(1, 500)}",
                visibility=rng.choice(["public", "public", "private", "agent_only"]),
            )
        elif kind == "search_context":
            await self.timed(
                outcome,
                "search_context",
                session_id=session_id,
                query=f"task {rng.randint(1, 500)}",
            )
        elif kind == "memory":
            key = f"k{step % 10}"
            await self.timed(outcome, "set_memory", key=key, value={"step": step})
            await self.timed(outcome, "get_memory", key=key)
        elif kind == "wait_or_presence":
            if step % 2:
                await self.timed(
                    outcome,
                    "wait_for_messages",
                    session_id=session_id,
                    after_id=0,
                    timeout_seconds=0,
                )
            else:
                await self.timed(outcome, "register_agent_presence", status="active")
        elif kind == "lock":
            for action in ("lock", "unlock"):
                await self.timed(
                    outcome,
                    "coordinate_session_work",
                    session_id=session_id,
                    action=action,
                    resource=f"src/{self.agent_id}.py",
                    ttl_seconds=30,
                )


def choose(rng: random.Random, mix: list[tuple[str, float]]) -> str:
    roll = rng.random()
    total = 0.0
    for kind, weight in mix:
        total += weight
        if roll < total:
            return kind
    return mix[-1][0]
