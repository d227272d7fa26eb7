"""All settings, read once from ``SCS_*`` environment variables or a ``.env`` file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "shared-context"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SCS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the SQLite database and generated key files.",
    )
    database_url: str = Field(
        default="",
        description="sqlite:///path/to.db (default: <data_dir>/shared_context.db) "
        "or postgresql://user@host/db for scale-out.",
    )
    host: str = Field(default="127.0.0.1", description="HTTP listen address.")
    port: int = Field(default=23456, ge=0, le=65535, description="HTTP listen port.")
    allow_remote: bool = Field(
        default=False,
        description="Allow listening beyond loopback even with generated keys.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host header values accepted by the HTTP server (DNS-rebinding guard).",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra browser Origins accepted by the HTTP server.",
    )
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest HTTP request body accepted; larger ones get HTTP 413.",
    )
    api_key: SecretStr | None = Field(
        default=None, description="API key with the read+write ceiling, given by configuration."
    )
    admin_api_key: SecretStr | None = Field(
        default=None, description="API key with the read+write+admin ceiling."
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing secret (>= 32 bytes). Unset: generated once, kept in the DB.",
    )
    jwt_issuer: str = Field(default="shared-context-server", description="JWT iss claim.")
    jwt_audience: str = Field(default="shared-context-agents", description="JWT aud claim.")
    token_ttl_seconds: int = Field(
        default=3600, ge=60, le=7 * 86400, description="Lifetime of agent tokens."
    )
    revocation_recheck_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long a verified token is trusted before its revocation status is "
        "looked up again. Revocations made by this process apply at once; those made by "
        "another instance or `scs keys revoke` within this time. 0: look up on every call.",
    )
    agent_token: SecretStr | None = Field(
        default=None,
        description="Token used for resource reads and subscriptions over stdio.",
    )
    agent_id: str | None = Field(
        default=None,
        max_length=100,
        description="stdio connection identity: with SCS_API_KEY, every request of this stdio "
        "server acts as this agent id (no token needed). Ignored over HTTP (use X-Agent-Id).",
    )
    agent_type: str | None = Field(
        default=None,
        max_length=50,
        description="stdio connection identity: the agent type (default generic).",
    )
    agent_permissions: str | None = Field(
        default=None,
        max_length=64,
        description="stdio connection identity: requested permissions, a comma list of read, "
        "write, admin (default read,write), capped by the key's ceiling.",
    )
    api_key_agents: str = Field(
        default="",
        max_length=10_000,
        description="Bind SCS_API_KEY to these agent ids: a comma list of ids and prefix* "
        "patterns (e.g. claude-*). Empty: a team key that may act as any agent id.",
    )
    toolsets: str = Field(
        default="",
        max_length=200,
        description="Tool profiles offered: a comma list of core, search, memory, "
        "coordination, admin. Empty: all. An HTTP request's X-SCS-Toolsets header can narrow "
        "it further.",
    )
    max_content_chars: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Longest message content accepted."
    )
    read_pool_size: int = Field(default=4, ge=1, le=32, description="SQLite read connections.")
    write_batch_max: int = Field(
        default=256, ge=1, le=10_000, description="Most writes committed in one transaction."
    )
    write_queue_max: int = Field(
        default=10_000, ge=1, description="Writes waiting for the writer before callers wait."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long SQLite waits on a lock held elsewhere."
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics without the admin API key (e.g. behind a private network).",
    )
    maintenance_interval_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="How often routine database upkeep runs (token purge, PRAGMA optimize).",
    )
    cache_enabled: bool = Field(
        default=True,
        description="Cache sessions and message pages in memory (SQLite: correct across every "
        "process on the same file, see docs/adr/0006; PostgreSQL deployments read through).",
    )
    cache_window: int = Field(
        default=256, ge=16, le=10_000, description="Recent messages kept per hot session."
    )
    cache_max_entries: int = Field(
        default=10_000, ge=16, description="Entries per cache level before LRU eviction."
    )
    cache_ttl_seconds: float = Field(
        default=300.0, gt=0, description="Age after which a cache entry is dropped."
    )
    change_poll_seconds: float = Field(
        default=0.02,
        ge=0.001,
        le=1.0,
        description="SQLite: how often each process checks, off its event loop, whether another "
        "process on the same database committed (one PRAGMA data_version); waits and "
        "subscriptions wake within about this long for writes made through another process. "
        "Cached reads check first regardless.",
    )
    change_log_retention_seconds: float = Field(
        default=600.0,
        ge=10,
        le=86_400,
        description="SQLite: age after which rows of the cross-process change log are trimmed. "
        "A process that was stopped longer than this re-queries everything on waking.",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="SQLite fsync policy. NORMAL (WAL): every acknowledged write survives a "
        "crash of the server process; FULL: also survives power loss or an OS crash, at a "
        "lower write throughput.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    log_format: Literal["auto", "text", "json"] = Field(
        default="auto",
        description="Log line format on stderr: text (for people), json (one object per line, "
        "for log pipelines), or auto: text when stderr is a terminal, json otherwise.",
    )
    memory_max_value_bytes: int = Field(
        default=64 * 1024,
        ge=16,
        le=16 * 1024 * 1024,
        description="Largest agent memory value accepted, in bytes of serialised JSON.",
    )
    memory_max_entries_per_agent: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="Most live memory entries one agent may hold (all scopes together).",
    )
    memory_max_bytes_per_agent: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Most bytes of memory values one agent may hold (all scopes together).",
    )
    memory_sweep_interval_seconds: float = Field(
        default=60.0,
        ge=0.05,
        le=86_400,
        description="How often the background task removes expired memory entries and "
        "applies audit retention.",
    )
    memory_sweep_batch: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Most expired memory entries (or old audit rows) deleted per transaction, "
        "so the sweep never holds the writer for long.",
    )
    audit_retention_days: float = Field(
        default=30.0,
        gt=0,
        le=3650,
        description="Audit log rows older than this many days are deleted by the background task.",
    )
    max_waiters_per_agent: int = Field(
        default=8, ge=1, le=1000, description="Concurrent wait_for_messages calls per agent."
    )
    presence_flush_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often batched last-seen touches are written."
    )
    lock_sweep_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="How often expired lock leases are purged."
    )
    max_subscriptions: int = Field(
        default=1024, ge=1, le=100_000, description="Open resource subscriptions per server."
    )
    database_schema: str = Field(
        default="",
        max_length=63,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$|^$",
        description="PostgreSQL schema to use (created if missing); empty: the server's "
        "default search_path (usually public).",
    )
    pg_pool_min: int = Field(default=1, ge=0, le=100, description="PostgreSQL pool: idle floor.")
    pg_pool_max: int = Field(
        default=10, ge=1, le=200, description="PostgreSQL pool: most connections per instance."
    )
    # --- hostile clients (SPEC §19): fair shares of every bounded pool --------------------
    max_subscriptions_per_agent: int = Field(
        default=64, ge=1, le=100_000, description="Open resource subscriptions per agent id."
    )
    max_subscriptions_per_connection: int = Field(
        default=128,
        ge=1,
        le=100_000,
        description="Open resource subscriptions per MCP connection (all its agent ids).",
    )
    max_streams: int = Field(
        default=256, ge=1, le=100_000, description="Open subscriptions/listen streams per server."
    )
    max_streams_per_agent: int = Field(
        default=8, ge=1, le=10_000, description="Open subscriptions/listen streams per agent id."
    )
    max_streams_per_connection: int = Field(
        default=16,
        ge=1,
        le=10_000,
        description="Open subscriptions/listen streams per MCP connection.",
    )
    max_waiters: int = Field(
        default=1024, ge=1, le=100_000, description="Concurrent wait_for_messages calls in total."
    )
    max_waiters_per_connection: int = Field(
        default=16,
        ge=1,
        le=10_000,
        description="Concurrent wait_for_messages calls per MCP connection (all its agent ids).",
    )
    max_mcp_sessions: int = Field(
        default=2048,
        ge=1,
        le=9000,
        description="Open stateful Streamable HTTP sessions (2025-11-25 clients) per process; at "
        "the cap the oldest unauthenticated session is evicted for a client with a valid token.",
    )
    max_unauthenticated_sessions: int = Field(
        default=128,
        ge=1,
        le=9000,
        description="Open Streamable HTTP sessions that have not yet shown a valid token; the "
        "oldest is evicted when a new one would exceed this.",
    )
    unauthenticated_session_ttl_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="A Streamable HTTP session that shows no valid token within this many "
        "seconds of its initialize is ended.",
    )
    cache_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        le=16 * 1024 * 1024 * 1024,
        description="Bytes (estimated) the read cache may hold in all its levels together; "
        "1/8 sessions, 1/4 message windows, 1/8 rendered messages (shared by every "
        "audience), 1/2 rendered pages. A value over a quarter of its level is not cached.",
    )
    auth_max_failures: int = Field(
        default=10,
        ge=1,
        le=100_000,
        description="Failed authentications allowed per presented key prefix and per claimed "
        "agent id within auth_failure_window_seconds; more are refused with RATE_LIMITED.",
    )
    storage_recovery_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="After STORAGE_FULL (SQLite): how often free space is checked; once there "
        "is enough, the WAL is checkpointed back (TRUNCATE) and writes resume.",
    )
    storage_min_free_bytes: int = Field(
        default=256 * 1024,
        ge=0,
        le=1 << 40,
        description="Free bytes the database volume needs before a STORAGE_FULL store tries "
        "to resume writes.",
    )
    auth_failure_window_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="Window of the failed-authentication limits."
    )
    auth_failure_audit_budget: int = Field(
        default=60,
        ge=1,
        le=100_000,
        description="Failed authentications recorded one audit row each per window; the rest "
        "are counted into one aggregate row per window.",
    )

    dashboard_enabled: bool = Field(
        default=True, description="Serve the live web dashboard at /ui on the HTTP server."
    )
    dashboard_cookie_secure: bool = Field(
        default=False,
        description="Mark the dashboard login cookie Secure (set it when the server is reached "
        "over HTTPS, e.g. behind a TLS proxy).",
    )
    dashboard_max_streams: int = Field(
        default=200, ge=1, le=100_000, description="Open dashboard live streams per server."
    )
    dashboard_max_streams_per_agent: int = Field(
        default=8, ge=1, le=1000, description="Open dashboard live streams per logged-in identity."
    )
    dashboard_heartbeat_seconds: float = Field(
        default=15.0,
        ge=0.05,
        le=300,
        description="How often a dashboard live stream sends a heartbeat and re-checks the "
        "viewer's login (expiry, revocation) and the session's presence and locks.",
    )
    dashboard_sample_seconds: float = Field(
        default=5.0,
        ge=0.05,
        le=3600,
        description="How often the dashboard samples get_performance_metrics for its charts.",
    )
    dashboard_series_points: int = Field(
        default=360,
        ge=2,
        le=100_000,
        description="Samples kept for the dashboard's metrics charts (a bounded in-memory "
        "ring; 360 at 5 s is 30 minutes).",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'shared_context.db'}"
