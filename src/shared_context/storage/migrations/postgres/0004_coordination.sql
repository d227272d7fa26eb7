-- Coordination: agent presence and session lock leases.
-- Same tables, columns and meaning as sqlite/0004_coordination.sql (times are epoch seconds).
-- A lock acquire is one statement:
--   INSERT ... ON CONFLICT (session_id, resource) DO UPDATE SET ...
--   WHERE session_locks.expires_at <= $now OR session_locks.holder = EXCLUDED.holder
-- (no row returned: another agent holds a live lease → SESSION_LOCKED).
CREATE TABLE agent_presence (
    agent_id TEXT COLLATE "C" PRIMARY KEY,
    agent_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'busy', 'idle', 'offline')),
    session_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    last_seen DOUBLE PRECISION NOT NULL
);
CREATE INDEX agent_presence_seen ON agent_presence (last_seen);
CREATE INDEX agent_presence_session ON agent_presence (session_id, last_seen);

CREATE TABLE session_locks (
    session_id TEXT NOT NULL,
    resource TEXT COLLATE "C" NOT NULL DEFAULT '',
    lock_type TEXT NOT NULL,
    holder TEXT NOT NULL,
    holder_type TEXT NOT NULL,
    acquired_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, resource)
);
CREATE INDEX session_locks_expiry ON session_locks (expires_at);
