-- Agent memory: private key/value entries per owner, global ('' scope) or per session.
-- Keys compare byte for byte (BINARY collation): no normalisation, no case folding.
CREATE TABLE agent_memory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    size_bytes INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL
);
CREATE UNIQUE INDEX agent_memory_key ON agent_memory (agent_id, scope, key);
CREATE INDEX agent_memory_scope_order ON agent_memory (agent_id, scope, id);
CREATE INDEX agent_memory_expiry ON agent_memory (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX agent_memory_usage ON agent_memory (agent_id, expires_at, size_bytes);
