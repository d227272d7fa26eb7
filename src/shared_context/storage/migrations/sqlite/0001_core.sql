-- Core: server secrets, API keys, revoked tokens, sessions, messages, audit log.
CREATE TABLE IF NOT EXISTS server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);

CREATE TABLE sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1,
    closed_at REAL
);
CREATE INDEX sessions_created_by ON sessions (created_by, seq);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (session_id),
    sender TEXT NOT NULL,
    sender_type TEXT NOT NULL,
    content TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private', 'agent_only', 'admin_only')),
    metadata TEXT NOT NULL DEFAULT '{}',
    parent_message_id INTEGER REFERENCES messages (id),
    created_at REAL NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX messages_session ON messages (session_id, id);
CREATE INDEX messages_session_sender ON messages (session_id, sender, id);
CREATE INDEX messages_session_time ON messages (session_id, created_at);
CREATE UNIQUE INDEX messages_idempotency ON messages (sender, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    agent_id TEXT,
    event_type TEXT NOT NULL,
    session_id TEXT,
    outcome TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_ts ON audit_log (ts);
CREATE INDEX audit_agent ON audit_log (agent_id, id);
CREATE INDEX audit_session ON audit_log (session_id, id);
