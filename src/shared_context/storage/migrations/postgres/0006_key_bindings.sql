-- Keys bound to agents: a JSON list of agent ids and "prefix*" patterns; '[]' = team key.
-- Same column and meaning as sqlite/0006_key_bindings.sql.
ALTER TABLE api_keys ADD COLUMN agents TEXT NOT NULL DEFAULT '[]';
