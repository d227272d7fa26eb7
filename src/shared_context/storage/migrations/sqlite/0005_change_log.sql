-- Cross-process change log (SPEC §15, docs/adr/0006-cross-process-changes.md).
-- Several server processes share one SQLite file. Triggers append one row per change in the
-- same transaction as the change itself, whoever wrote it (any of our processes, `scs keys`,
-- a migration). Each process watches PRAGMA data_version and reads the rows past the last
-- sequence number it has seen: it bumps its cache versions and feeds its event bus from them.
-- Rows carry ids only (never content, values or keys); old rows are trimmed by maintenance.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    session_id TEXT,
    agent_id TEXT,
    message_id INTEGER,
    detail TEXT,
    at REAL NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0)
);
CREATE INDEX change_log_at ON change_log (at);

CREATE TRIGGER change_log_message_added AFTER INSERT ON messages
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id, message_id)
    VALUES ('message_added', NEW.session_id, NEW.sender, NEW.id);
END;

CREATE TRIGGER change_log_visibility_changed AFTER UPDATE OF visibility ON messages
WHEN OLD.visibility IS NOT NEW.visibility
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id, message_id, detail)
    VALUES ('visibility_changed', NEW.session_id, NEW.sender, NEW.id, OLD.visibility);
END;

CREATE TRIGGER change_log_session_added AFTER INSERT ON sessions
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('session_changed', NEW.session_id, NEW.created_by);
END;

CREATE TRIGGER change_log_session_changed AFTER UPDATE ON sessions
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('session_changed', NEW.session_id, NEW.created_by);
END;

CREATE TRIGGER change_log_memory_added AFTER INSERT ON agent_memory
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('memory_changed', NULLIF(NEW.scope, ''), NEW.agent_id);
END;

CREATE TRIGGER change_log_memory_changed AFTER UPDATE ON agent_memory
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('memory_changed', NULLIF(NEW.scope, ''), NEW.agent_id);
END;

CREATE TRIGGER change_log_memory_deleted AFTER DELETE ON agent_memory
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('memory_changed', NULLIF(OLD.scope, ''), OLD.agent_id);
END;

CREATE TRIGGER change_log_lock_added AFTER INSERT ON session_locks
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id, detail)
    VALUES ('lock_changed', NEW.session_id, NEW.holder, NEW.resource);
END;

CREATE TRIGGER change_log_lock_changed AFTER UPDATE ON session_locks
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id, detail)
    VALUES ('lock_changed', NEW.session_id, NEW.holder, NEW.resource);
END;

CREATE TRIGGER change_log_lock_deleted AFTER DELETE ON session_locks
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id, detail)
    VALUES ('lock_changed', OLD.session_id, OLD.holder, OLD.resource);
END;

-- Presence: a new agent or a changed status/session; the batched last_seen touches
-- (which set only agent_type and last_seen) are not changes anyone waits for.
CREATE TRIGGER change_log_presence_added AFTER INSERT ON agent_presence
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('presence_changed', NEW.session_id, NEW.agent_id);
END;

CREATE TRIGGER change_log_presence_changed AFTER UPDATE OF status, session_id ON agent_presence
WHEN OLD.status IS NOT NEW.status OR OLD.session_id IS NOT NEW.session_id
BEGIN
    INSERT INTO change_log (kind, session_id, agent_id)
    VALUES ('presence_changed', NEW.session_id, NEW.agent_id);
END;

CREATE TRIGGER change_log_token_revoked AFTER INSERT ON revoked_tokens
BEGIN
    INSERT INTO change_log (kind) VALUES ('auth_revoked');
END;

CREATE TRIGGER change_log_key_revoked AFTER UPDATE OF revoked_at ON api_keys
WHEN NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL
BEGIN
    INSERT INTO change_log (kind) VALUES ('auth_revoked');
END;
