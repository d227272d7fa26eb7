-- Agent memory: private key/value entries per owner, global ('' scope) or per session.
-- Keys compare byte for byte (COLLATE "C"): no normalisation, no case folding.
CREATE TABLE agent_memory (
    id BIGSERIAL PRIMARY KEY,
    agent_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    size_bytes BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION
);
CREATE UNIQUE INDEX agent_memory_key ON agent_memory (agent_id, scope, key);
CREATE INDEX agent_memory_scope_order ON agent_memory (agent_id, scope, id);
CREATE INDEX agent_memory_expiry ON agent_memory (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX agent_memory_usage ON agent_memory (agent_id, expires_at, size_bytes);
