"""The session page's live stream (Server-Sent Events), one per viewer and page.

It consumes the event bus the way ``wait_for_messages`` does (``services/waiting.py``): it
subscribes before its first query, an event only wakes it when the viewer may see the message
(``domain.visibility.can_see``) or carries nothing to judge by, and new messages are always
re-read through ``MessageService.read`` for the viewer (the query ``wait_for_messages`` runs),
so storage applies the visibility rule in SQL. A visibility change is judged by the same
``can_see``: a message that became visible is sent, one that no longer is is withdrawn.
Events from other processes and instances arrive on the same bus, so the stream is live
across them without polling.

Safety:
- streams are bounded per identity and in total (``StreamLimits``: HTTP 429 beyond);
- the viewer's token is verified again before every batch of content, at every heartbeat, at
  its expiry time and at once when a revocation is announced; a failed check sends an
  ``expired`` event (a "log in again" notice, no content) and ends the stream;
- a heartbeat comment keeps proxies from closing an idle stream and detects dead clients;
- server shutdown ends every stream.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable

from sse_starlette.event import ServerSentEvent

from shared_context.domain.errors import AuthError, SharedContextError
from shared_context.domain.models import Message, Visibility
from shared_context.events.bus import Event, EventKind
from shared_context.web.dashboard.data import (
    MESSAGE_KINDS,
    PANEL_KINDS,
    DashboardData,
    MessageView,
    Viewer,
    event_message,
    may_see,
    message_view,
)

PAGES_PER_WAKE = 20  # x 100 messages: a burst beyond waits for the next wake-up
CHANGED_MAX = 256  # visibility changes remembered between two wake-ups
PANEL_MIN_SECONDS = 1.0  # presence/locks re-rendered at most this often
RETRY_MS = 2000


class StreamLimits:
    def __init__(self, total: int, per_agent: int) -> None:
        self.total = total
        self.per_agent = per_agent
        self._open: Counter[str] = Counter()
        self.refused = 0

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def acquire(self, agent_id: str) -> bool:
        if self.open >= self.total or self._open[agent_id] >= self.per_agent:
            self.refused += 1
            return False
        self._open[agent_id] += 1
        return True

    def release(self, agent_id: str) -> None:
        self._open[agent_id] -= 1
        if self._open[agent_id] <= 0:
            del self._open[agent_id]


@dataclasses.dataclass(eq=False)
class _State:
    agent_id: str
    wake: asyncio.Event
    changed: deque[tuple[Message, str | None]]
    panel_dirty: bool = True
    closing: bool = False


RenderMessages = Callable[[Viewer, list[MessageView]], str]
RenderPanel = Callable[[Viewer, str], Awaitable[str]]
RenderRemoval = Callable[[int], str]


class SessionStreams:
    def __init__(
        self,
        data: DashboardData,
        limits: StreamLimits,
        *,
        heartbeat: float,
        render_messages: RenderMessages,
        render_panel: RenderPanel,
        render_removal: RenderRemoval,
        render_expired: Callable[[], str],
    ) -> None:
        self._data = data
        self.limits = limits
        self._heartbeat = heartbeat
        self._render_messages = render_messages
        self._render_panel = render_panel
        self._render_removal = render_removal
        self._render_expired = render_expired
        self._states: set[_State] = set()
        data.on_shutdown(self.end_all)

    def end_all(self) -> None:
        for state in list(self._states):
            state.closing = True
            state.wake.set()

    def recheck(self, agent_id: str) -> None:
        """Make the agent's open streams verify their login now (e.g. after a logout)."""
        for state in self._states:
            if state.agent_id == agent_id:
                state.wake.set()

    async def events(
        self, viewer: Viewer, session_id: str, after: int
    ) -> AsyncIterator[ServerSentEvent]:
        """Call only after ``limits.acquire(viewer.agent_id)`` succeeded; releases it."""
        state = _State(viewer.agent_id, asyncio.Event(), deque(maxlen=CHANGED_MAX))
        unsubscribe = self._data.subscribe(lambda e: _on_event(state, viewer, session_id, e))
        self._states.add(state)
        loop = asyncio.get_running_loop()
        last_panel, panel_html = 0.0, ""
        try:
            yield ServerSentEvent(comment="connected", retry=RETRY_MS)
            while not state.closing:
                viewer = await self._data.viewer(viewer.token)  # expiry and revocation
                async for event in self._messages(viewer, session_id, after, state):
                    after = max(after, int(event.id)) if event.id else after
                    yield event
                now = loop.time()
                if state.panel_dirty and now - last_panel >= PANEL_MIN_SECONDS:
                    state.panel_dirty = False
                    last_panel = now
                    html = await self._render_panel(viewer, session_id)
                    if html != panel_html:
                        panel_html = html
                        yield ServerSentEvent(html, event="panel")
                timeout = min(
                    self._heartbeat, max(0.0, viewer.principal.expires_at - self._data.now())
                )
                if state.panel_dirty:
                    timeout = min(timeout, max(0.0, PANEL_MIN_SECONDS - (now - last_panel)))
                try:
                    await asyncio.wait_for(state.wake.wait(), timeout)
                except TimeoutError:
                    state.panel_dirty = True  # presence ages; refresh it with the heartbeat
                    yield ServerSentEvent(comment="heartbeat")
                state.wake.clear()
        except AuthError:
            yield ServerSentEvent(self._render_expired(), event="expired")
        except SharedContextError:  # the session vanished or became unreadable
            yield ServerSentEvent(self._render_expired(), event="expired")
        finally:
            unsubscribe()
            self._states.discard(state)
            self.limits.release(viewer.agent_id)

    async def _messages(
        self, viewer: Viewer, session_id: str, after: int, state: _State
    ) -> AsyncIterator[ServerSentEvent]:
        for _ in range(PAGES_PER_WAKE):
            found, more = await self._data.after(viewer, session_id, after)
            if found:
                after = found[-1].id
                yield ServerSentEvent(
                    self._render_messages(viewer, found), event="message", id=str(after)
                )
            if not more:
                break
        else:
            state.wake.set()  # more remain: come back at once after the panel/heartbeat step
        while state.changed:
            message, old = state.changed.popleft()
            if may_see(viewer, message):
                if message.id <= after:  # now visible, already past: send it by itself
                    yield ServerSentEvent(
                        self._render_messages(viewer, [message_view(message)]), event="message"
                    )
            elif old is not None and may_see(
                viewer, dataclasses.replace(message, visibility=Visibility(old))
            ):
                yield ServerSentEvent(self._render_removal(message.id), event="message")


def _on_event(state: _State, viewer: Viewer, session_id: str, event: Event) -> None:
    kind = event.kind
    if kind is EventKind.RESYNC:  # cross-instance events may have been missed
        state.panel_dirty = True
        state.wake.set()
    elif kind is EventKind.AUTH_REVOKED:
        state.wake.set()  # every wake-up verifies the viewer's token again
    elif kind in MESSAGE_KINDS and event.session_id == session_id:
        message = event_message(event)
        if message is None:
            state.wake.set()  # nothing to judge by: re-query (the query filters)
        elif kind is EventKind.VISIBILITY_CHANGED:
            old = event.data.get("old_visibility")
            state.changed.append((message, old if isinstance(old, str) else None))
            state.wake.set()
        elif may_see(viewer, message):
            state.wake.set()
    elif kind in PANEL_KINDS and event.session_id in (session_id, None):
        state.panel_dirty = True
        state.wake.set()
