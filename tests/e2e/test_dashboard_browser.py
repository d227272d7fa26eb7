"""The dashboard in a real Chromium (Playwright) against a real ``scs serve`` (SPEC §17).

Needs the ``browser`` dependency group (``uv sync --group browser``) and Debian's chromium at
/usr/bin/chromium; ``.ci/run`` installs both. Without them the module is skipped, saying why.
Set UPDATE_SCREENSHOTS=1 to refresh the README's screenshot (docs/dashboard.png).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio
from mcp.client.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.dashboard_support import CHROMIUM, CHROMIUM_ARGS, frames, http_login
from tests.helpers import ADMIN_KEY, AGENT_KEY, JWT_SECRET
from tests.server_process import ServerProcess, sdk_call, sdk_client, server_env

playwright_api = pytest.importorskip(
    "playwright.async_api",
    reason="Playwright is in the 'browser' dependency group: uv sync --group browser",
)
if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium is missing: apt-get install -y chromium (.ci/run does it)",
        allow_module_level=True,
    )

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
DOCS = Path(__file__).resolve().parents[2] / "docs"
LIVE_MS = 3000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("dashboard") / "data"
    env = server_env(
        data, SCS_DASHBOARD_MAX_STREAMS_PER_AGENT="3", SCS_DASHBOARD_HEARTBEAT_SECONDS="10"
    )
    with ServerProcess(data, env=env).start(timeout=90) as srv:
        yield srv


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(server: ServerProcess) -> dict[str, Any]:
    """alice and bob (agent key), an admin; a session with a thread, a private post of
    alice's and a lock; tokens for posting over MCP."""
    out: dict[str, Any] = {}
    async with sdk_client(server.url) as mcp:
        for name, key in (("alice", AGENT_KEY), ("bob", AGENT_KEY), ("boss", ADMIN_KEY)):
            body = await sdk_call(
                mcp, "authenticate_agent", agent_id=name, agent_type="claude", api_key=key
            )
            out[name] = body["token"]
        sid = (
            await sdk_call(
                mcp, "create_session", purpose="Ship the parser", auth_token=out["alice"]
            )
        )["session_id"]
        first = await sdk_call(
            mcp,
            "add_message",
            session_id=sid,
            content="Plan: tokenizer first, then the AST.",
            auth_token=out["alice"],
        )
        await sdk_call(
            mcp,
            "add_message",
            session_id=sid,
            content="I take the tokenizer.",
            parent_message_id=first["message_id"],
            auth_token=out["bob"],
        )
        await sdk_call(
            mcp,
            "add_message",
            session_id=sid,
            content="alice-secret-note",
            visibility="private",
            auth_token=out["alice"],
        )
        await sdk_call(
            mcp, "register_agent_presence", status="busy", session_id=sid, auth_token=out["bob"]
        )
        await sdk_call(
            mcp,
            "coordinate_session_work",
            session_id=sid,
            action="lock",
            resource="src/tokenizer.py",
            auth_token=out["bob"],
        )
    out["sid"] = sid
    out["first"] = first["message_id"]
    return out


async def post(server: ServerProcess, token: str, sid: str, content: str, **extra: Any) -> int:
    async with sdk_client(server.url) as mcp:
        body = await sdk_call(
            mcp, "add_message", session_id=sid, content=content, auth_token=token, **extra
        )
    return int(body["message_id"])


async def login_page(browser: Any, server: ServerProcess, agent_id: str, **opts: Any) -> Any:
    context = await browser.new_context(
        base_url=server.base, viewport=opts.pop("viewport", {"width": 1280, "height": 800})
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto("/ui/")
    assert "/ui/login" in page.url
    await page.get_by_label("API key").fill(opts.get("key", AGENT_KEY))
    await page.get_by_label("Agent id").fill(agent_id)
    await page.get_by_label("Agent type").fill("claude")
    await page.get_by_label("write (post messages)").check()
    if opts.get("admin"):
        await page.get_by_label("admin (agents and metrics panels)").check()
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r"/ui/sessions$"))
    return page


async def test_agent_sees_its_sessions_and_only_what_it_may(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    page = await login_page(browser, server, "bob")
    try:
        assert await page.locator(f'[data-session-id="{world["sid"]}"]').count() == 1
        cookies = await page.context.cookies()
        login = next(c for c in cookies if c["name"] == "scs_ui")
        assert login["httpOnly"] and login["sameSite"] == "Strict" and login["expires"] > 0
        await page.click(f'[data-session-id="{world["sid"]}"] a')
        await page.wait_for_selector("[data-message-id]")
        text = await page.locator("#messages").inner_text()
        assert "Plan: tokenizer first" in text and "I take the tokenizer." in text
        html = await page.content()
        assert "alice-secret-note" not in html
        assert world["bob"] not in html and login["value"] not in html  # no secret rendered
        reply = page.locator("li.msg", has_text="I take the tokenizer.")
        assert await reply.get_attribute("data-depth") == "1"  # threaded under its parent
        panel = page.locator('[data-panel="presence"]')
        assert "bob" in await panel.inner_text()
        assert "src/tokenizer.py" in await panel.inner_text()
    finally:
        await page.context.close()


async def test_search_highlights_and_filters_narrow(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    page = await login_page(browser, server, "alice")
    try:
        await page.goto(f"/ui/sessions/{world['sid']}")
        await page.get_by_role("searchbox", name="Search").fill("tokenizr")  # a typo
        await page.get_by_role("button", name="Apply").click()
        await page.wait_for_selector("mark")
        marks = await page.locator("[data-message-id] mark").all_inner_texts()
        assert marks and all("tokeniz" in m.lower() for m in marks)
        await page.goto(f"/ui/sessions/{world['sid']}?sender=bob")
        texts = await page.locator("[data-message-id]").all_inner_texts()
        assert texts and all("bob" in t for t in texts)
        await page.goto(f"/ui/sessions/{world['sid']}?visibility=private")
        assert "alice-secret-note" in await page.locator("#messages").inner_text()  # her own
        assert "I take the tokenizer." not in await page.locator("#messages").inner_text()
    finally:
        await page.context.close()


async def test_wrong_key_is_refused_and_never_echoed(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        page = await client.get("/ui/login")
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
        assert token is not None
        wrong = "not-a-real-key-0123456789"
        form = {"csrf_token": token.group(1), "api_key": wrong, "agent_id": "eve"}
        answer = await client.post(
            "/ui/login", data={**form, "agent_type": "x"}, headers={"Origin": server.base}
        )
        assert answer.status_code == 401 and wrong not in answer.text
        assert "scs_ui" not in client.cookies


async def test_public_post_over_mcp_appears_live_private_never(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    page = await login_page(browser, server, "bob")
    try:
        await page.goto(f"/ui/sessions/{world['sid']}")
        await page.wait_for_selector("#live-status:has-text('Live')", timeout=10_000)
        secret = await post(
            server, world["alice"], world["sid"], "live-private-x", visibility="private"
        )
        reply = await post(
            server,
            world["alice"],
            world["sid"],
            "live-public-reply",
            parent_message_id=world["first"],
        )
        await page.wait_for_selector(f'[data-message-id="{reply}"]', timeout=LIVE_MS)
        assert await page.locator(f'[data-message-id="{secret}"]').count() == 0
        assert "live-private-x" not in await page.content()
        placed = page.locator(f"#msg-{reply}")
        assert await placed.get_attribute("data-depth") == "1"
        # Posting as the logged-in identity, from the page itself.
        await page.get_by_label("Message", exact=True).fill("posted from the dashboard")
        await page.get_by_role("button", name="Post", exact=True).click()
        await page.wait_for_selector(
            "li.msg:has-text('posted from the dashboard')", timeout=LIVE_MS
        )
        await page.get_by_label("Message", exact=True).blur()
        await page.evaluate("window.scrollTo(0, 0)")
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await page.screenshot(path=str(DOCS / "dashboard.png"))
        shot = await page.screenshot()
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await page.context.close()


async def test_admin_sees_agents_and_metrics_panels(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    page = await login_page(browser, server, "boss", key=ADMIN_KEY, admin=True)
    try:
        await page.get_by_role("link", name="Admin").click()
        agents = page.locator('[data-panel="agents"]')
        metrics = page.locator('[data-panel="metrics"]')
        await agents.wait_for()
        assert "bob" in await agents.inner_text()
        assert "src/tokenizer.py" in await agents.inner_text()
        assert "add_message" in await metrics.inner_text()
        assert await metrics.locator("[data-chart] svg").count() >= 5
        # The panel refreshes itself from the sampler's series: a sample line appears.
        await page.wait_for_selector('[data-chart="messages"] polyline', timeout=15_000)
    finally:
        await page.context.close()
    page = await login_page(browser, server, "bob")
    try:
        response = await page.goto("/ui/admin")
        assert response is not None and response.status == 403
        assert await page.locator("[data-panel]").count() == 0
    finally:
        await page.context.close()


async def test_phone_width_is_readable(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    page = await login_page(browser, server, "bob", viewport={"width": 390, "height": 844})
    try:
        await page.goto(f"/ui/sessions/{world['sid']}")
        await page.wait_for_selector("[data-message-id]")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        await page.keyboard.press("Tab")  # the first stop is the skip link
        assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
        assert await page.locator("main").count() == 1 and await page.locator("nav").count() == 1
    finally:
        await page.context.close()


async def test_no_cookie_no_content(server: ServerProcess, world: dict[str, Any]) -> None:
    sid = world["sid"]
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as anon:
        for path in (
            "/ui/",
            "/ui/sessions",
            f"/ui/sessions/{sid}",
            f"/ui/sessions/{sid}?q=tokenizer",
            "/ui/admin",
            "/ui/admin/agents",
            "/ui/admin/metrics",
        ):
            response = await anon.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/ui/login")
            assert "tokenizer" not in response.text
        fragment = await anon.get(f"/ui/sessions/{sid}", headers={"HX-Request": "true"})
        assert fragment.status_code == 401 and "tokenizer" not in fragment.text
        stream = await anon.get(f"/ui/sessions/{sid}/stream")
        assert stream.status_code == 401 and "tokenizer" not in stream.text
        page = await anon.get("/ui/login")
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None  # no inline script
        assert re.search(r"<[^>]+\son[a-z]+=", page.text) is None  # no inline handlers
    async with httpx.AsyncClient(
        base_url=server.base, timeout=10, cookies={"scs_ui": "e30.e30.forged"}
    ) as forged_client:
        forged = await forged_client.get(f"/ui/sessions/{sid}/stream")
        assert forged.status_code == 401
        assert (await forged_client.get(f"/ui/sessions/{sid}")).status_code == 303


async def test_forged_cross_site_login_is_refused(browser: Any, server: ServerProcess) -> None:
    # From another origin in the browser: a page that posts the login form to the server.
    context = await browser.new_context()
    page = await context.new_page()
    attacker = (
        f'<form id="f" method="post" action="{server.base}/ui/login">'
        f'<input name="api_key" value="{AGENT_KEY}"><input name="agent_id" value="mallory">'
        '<input name="agent_type" value="x"></form>'
    )

    async def serve(route: Any) -> None:
        await route.fulfill(status=200, content_type="text/html", body=attacker)

    await page.route("http://attacker.test/**", serve)
    try:
        await page.goto("http://attacker.test/")
        async with page.expect_response(re.compile(r"/ui/login$")) as answer:
            await page.evaluate("document.getElementById('f').submit()")
        assert (await answer.value).status == 403
        assert not [c for c in await context.cookies(server.base) if c["name"] == "scs_ui"]
    finally:
        await context.close()
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        page_html = (await client.get("/ui/login")).text
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page_html)
        assert token is not None
        form = {"api_key": AGENT_KEY, "agent_id": "mallory", "agent_type": "x"}
        no_origin = await client.post("/ui/login", data={**form, "csrf_token": token.group(1)})
        assert no_origin.status_code == 403
        no_token = await client.post("/ui/login", data=form, headers={"Origin": server.base})
        assert no_token.status_code == 403
        fresh = httpx.AsyncClient(base_url=server.base, timeout=10)  # token without its cookie
        async with fresh:
            stolen = await fresh.post(
                "/ui/login",
                data={**form, "csrf_token": token.group(1)},
                headers={"Origin": server.base},
            )
        assert stolen.status_code == 403


async def test_expired_cookie_sends_you_to_the_login(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    now = int(time.time())
    expired = jwt.encode(
        {
            "sub": "bob",
            "agent_type": "claude",
            "permissions": ["read"],
            "key": "",
            "iss": "shared-context-server",
            "aud": "shared-context-agents",
            "iat": now - 7200,
            "exp": now - 3600,
            "jti": "e" * 32,
        },
        JWT_SECRET,
        algorithm="HS256",
    )
    context = await browser.new_context(base_url=server.base)
    await context.add_cookies([{"name": "scs_ui", "value": expired, "url": server.base + "/ui/"}])
    page = await context.new_page()
    try:
        await page.goto(f"/ui/sessions/{world['sid']}")
        assert "/ui/login" in page.url
        assert "expired" in (await page.locator("main").inner_text()).lower()
        assert "Plan: tokenizer" not in await page.content()
    finally:
        await context.close()


async def test_logout_revokes_and_streams_end(
    browser: Any, server: ServerProcess, world: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        cookie = await http_login(client, AGENT_KEY, "carol", "claude")
        url = f"/ui/sessions/{world['sid']}/stream"
        async with client.stream("GET", url) as live:
            assert live.status_code == 200
            page = await client.get(f"/ui/sessions/{world['sid']}")
            token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
            assert token is not None
            out = await client.post(
                "/ui/logout", data={"csrf_token": token.group(1)}, headers={"Origin": server.base}
            )
            assert out.status_code == 303
            events = [f.event async for f in frames(live, time.monotonic() + 8)]
            assert "expired" in events  # revocation seen while streaming; the stream ended
        assert "scs_ui" not in client.cookies
    async with httpx.AsyncClient(
        base_url=server.base, timeout=10, cookies={"scs_ui": cookie}
    ) as reuse:
        again = await reuse.get("/ui/sessions")
        assert again.status_code == 303  # the old cookie is worthless after logout


async def test_streams_are_bounded_per_viewer(server: ServerProcess, world: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as client:
        await http_login(client, AGENT_KEY, "dave", "claude")
        url = f"/ui/sessions/{world['sid']}/stream"
        opened: list[Any] = []
        try:
            for _ in range(3):  # SCS_DASHBOARD_MAX_STREAMS_PER_AGENT=3
                cm = client.stream("GET", url)
                response = await cm.__aenter__()
                opened.append(cm)
                assert response.status_code == 200
            refused = await client.get(url)
            assert refused.status_code == 429
        finally:
            for cm in opened:
                await cm.__aexit__(None, None, None)


@pytest.fixture
def quiet_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Heartbeat far beyond the test's 3 s: only the event bus can bring a message in time."""
    data = tmp_path / "quiet"
    env = server_env(data, SCS_DASHBOARD_HEARTBEAT_SECONDS="120")
    with ServerProcess(data, env=env).start(timeout=90) as srv:
        yield srv


async def test_post_from_another_process_appears_live(
    browser: Any, quiet_server: ServerProcess, tmp_path: Path
) -> None:
    server = quiet_server
    async with sdk_client(server.url) as mcp:
        auth = await sdk_call(
            mcp, "authenticate_agent", agent_id="alice", agent_type="claude", api_key=AGENT_KEY
        )
        sid = (
            await sdk_call(mcp, "create_session", purpose="two processes", auth_token=auth["token"])
        )["session_id"]
    page = await login_page(browser, server, "bob")
    errlog = (tmp_path / "stdio.log").open("w")
    try:
        await page.goto(f"/ui/sessions/{sid}")
        await page.wait_for_selector("#live-status:has-text('Live')", timeout=10_000)
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "shared_context.cli.main", "serve", "--transport", "stdio"],
            env=server.env,
        )
        async with SdkClient(stdio_client(params, errlog=errlog)) as other:
            args = {"agent_id": "alice", "agent_type": "claude", "api_key": AGENT_KEY}
            token = (await sdk_call(other, "authenticate_agent", **args))["token"]
            body = await sdk_call(
                other, "add_message", session_id=sid, content="from stdio", auth_token=token
            )
            await page.wait_for_selector(
                f'[data-message-id="{body["message_id"]}"]', timeout=LIVE_MS
            )
    finally:
        errlog.close()
        await page.context.close()
