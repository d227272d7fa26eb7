-- Coordination: agent presence and session lock leases.
CREATE TABLE agent_presence (
    agent_id TEXT PRIMARY KEY,
    agent_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'busy', 'idle', 'offline')),
    session_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    last_seen REAL NOT NULL
);
CREATE INDEX agent_presence_seen ON agent_presence (last_seen);
CREATE INDEX agent_presence_session ON agent_presence (session_id, last_seen);

-- A lease row per (session, resource); resource '' is the session write lock. A lease whose
-- expires_at has passed is ignored by every check and removed by a background sweep.
CREATE TABLE session_locks (
    session_id TEXT NOT NULL,
    resource TEXT NOT NULL DEFAULT '',
    lock_type TEXT NOT NULL,
    holder TEXT NOT NULL,
    holder_type TEXT NOT NULL,
    acquired_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (session_id, resource)
);
CREATE INDEX session_locks_expiry ON session_locks (expires_at);
