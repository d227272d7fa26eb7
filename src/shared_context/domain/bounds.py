"""Caller-facing bounds, defined once.

Services enforce these (``check_text``, ``check_int``, the id formats); the MCP tools publish
the same numbers in their input schemas (``maxLength``, ``minimum``, ``maximum``), and
``tests/unit/test_bounds.py`` fails if a tool schema and this module disagree. Size limits that
are settings (message content, memory value bytes) live in ``config.py`` instead.
"""

from __future__ import annotations

# identifiers
AGENT_ID_MAX_CHARS = 100
AGENT_TYPE_MAX_CHARS = 50
IDEMPOTENCY_KEY_MAX_CHARS = 128
MEMORY_KEY_MAX_CHARS = 255
EVENT_TYPE_MAX_CHARS = 64

# text
PURPOSE_MAX_CHARS = 1000
QUERY_MAX_CHARS = 500
RESOURCE_MAX_CHARS = 500
LOCK_TYPE_MAX_CHARS = 50

# pages: (lowest, highest) accepted ``limit``
MESSAGE_PAGE = (1, 1000)
SESSION_PAGE = (1, 500)
SEARCH_RESULTS = (1, 100)
SENDER_PAGE = (1, 100)
TIMERANGE_PAGE = (1, 200)
MEMORY_PAGE = (1, 1000)
AUDIT_PAGE = (1, 500)
WAIT_PAGE = (1, 1000)

# times, seconds unless named otherwise
LOCK_TTL_SECONDS = (5, 3600)
PRESENCE_WITHIN_SECONDS = (1, 86_400)
MEMORY_EXPIRES_SECONDS = (1, 365 * 86_400)
WAIT_TIMEOUT_SECONDS = (0, 60)
SUMMARY_HOURS = (1, 24 * 366)
