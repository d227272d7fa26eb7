"""SPEC §19 disk full, on a real 2 MiB tmpfs volume (issue 12: after STORAGE_FULL and freeing
1.2 MiB only 18 small writes fit, /health said "ok", authenticate_agent failed).

Writes answer STORAGE_FULL, reads keep working, logins still work, /health says degraded; once
the space is freed the WAL is checkpointed back and ≥ 200 writes fit; a restart finds every
acknowledged write."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from shared_context.bootstrap import open_services
from shared_context.domain.errors import ErrorCode, SharedContextError
from shared_context.domain.models import MessageQuery
from tests.conftest import make_settings
from tests.e2e.live import serve_http, token_for
from tests.helpers import AGENT_KEY

BALLAST_BYTES = 1200 * 1024
AFTER_FREEING = 250


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "vol"
    target.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


async def health(base: str) -> dict[str, object]:
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.get(f"{base}/health")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_disk_full_degrades_recovers_and_loses_nothing(volume: Path) -> None:
    settings = make_settings(volume / "data", storage_recovery_seconds=0.1)
    acked: list[int] = []
    async with open_services(settings) as app, serve_http(app) as url:
        base = url.removesuffix("/mcp")
        writer = await app.auth.resolve(await token_for(app, "writer"))
        sid = (await app.sessions.create(writer, "full", None)).session_id
        (volume / "ballast").write_bytes(b"\0" * BALLAST_BYTES)
        # Fill until writes fail three times in a row (the first refusals checkpoint the WAL
        # back, which makes room for a few more: the volume is truly full after that).
        refusals: list[SharedContextError] = []
        in_a_row = 0
        for i in range(20_000):
            try:
                body = await app.messages.add(writer, sid, f"{i:06d} " + "m" * 200)
            except SharedContextError as exc:
                refusals.append(exc)
                in_a_row += 1
                if in_a_row >= 3:
                    break
                continue
            in_a_row = 0
            acked.append(int(body.message_id))
        assert in_a_row >= 3, "the volume never filled"
        assert {e.code for e in refusals} == {ErrorCode.STORAGE_FULL}
        assert acked, "nothing fit before the disk filled"

        assert (await health(base))["status"] == "degraded"
        # Reads keep working while writes are refused.
        found, _ = await app.messages.read(writer, MessageQuery(session_id=sid, limit=1000))
        assert len(found) >= min(len(acked), 1000)
        # A login is not blocked by its own audit row.
        login = await app.auth.authenticate("late", "claude", AGENT_KEY, ["read", "write"])
        assert login.success is True
        with pytest.raises(SharedContextError) as again:
            await app.messages.add(writer, sid, "still full")
        assert again.value.code is ErrorCode.STORAGE_FULL

        (volume / "ballast").unlink()
        async with asyncio.timeout(20):
            while (await health(base))["status"] != "ok":
                await asyncio.sleep(0.05)
        for i in range(AFTER_FREEING):
            body = await app.messages.add(writer, sid, f"after {i:04d} " + "m" * 200)
            acked.append(int(body.message_id))
        assert (await health(base))["status"] == "ok"
        assert app.store.stats()["space_recoveries"] >= 1

    async with open_services(settings) as reopened:  # restart: every acknowledged write
        reader = await reopened.auth.resolve(await token_for(reopened, "reader"))
        ids: list[int] = []
        after = 0
        for _ in range(100):
            page, more = await reopened.messages.read(
                reader, MessageQuery(session_id=sid, limit=1000, after_id=after)
            )
            ids.extend(m.id for m in page)
            if not more:
                break
            after = page[-1].id
        assert ids == acked
