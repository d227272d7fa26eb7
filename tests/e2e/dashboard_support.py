"""Shared pieces of the dashboard tests: logging in over plain HTTP, reading SSE frames."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
MESSAGE_RE = re.compile(
    r'<li id="msg-(\d+)"[^>]*>.*?<p class="content">(.*?)</p>', re.DOTALL | re.UNICODE
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def http_login(
    client: httpx.AsyncClient,
    api_key: str,
    agent_id: str,
    agent_type: str,
    *,
    write: bool = True,
    admin: bool = False,
) -> str:
    """Log in through the form, as a browser would; returns the login cookie's value."""
    page = await client.get("/ui/login")
    token = CSRF_RE.search(page.text)
    assert token is not None, page.text[:500]
    form = {"csrf_token": token.group(1), "api_key": api_key}
    form |= {"agent_id": agent_id, "agent_type": agent_type}
    if write:
        form["perm_write"] = "on"
    if admin:
        form["perm_admin"] = "on"
    response = await client.post("/ui/login", data=form, headers={"Origin": str(client.base_url)})
    assert response.status_code == 303, response.text[:500]
    cookie = client.cookies.get("scs_ui")
    assert cookie
    return cookie


@dataclass
class Frame:
    event: str = "message"
    id: str | None = None
    data: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.data)

    def messages(self) -> list[tuple[int, str]]:
        """(id, content) of every message item in the frame's HTML."""
        return [(int(mid), html.unescape(c)) for mid, c in MESSAGE_RE.findall(self.text)]


async def frames(response: httpx.Response, deadline: float) -> AsyncIterator[Frame]:
    """SSE frames (comments skipped) until the stream ends or ``deadline`` (monotonic) passes."""
    frame = Frame()
    lines = response.aiter_lines()
    while time.monotonic() < deadline:
        try:
            line = await anext(lines)
        except StopAsyncIteration:
            return
        if line == "":
            if frame.data or frame.event != "message":
                yield frame
            frame = Frame()
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                frame.event = value
            elif name == "id":
                frame.id = value
            elif name == "data":
                frame.data.append(value)
