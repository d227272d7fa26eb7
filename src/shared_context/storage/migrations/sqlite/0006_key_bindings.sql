-- Keys bound to agents: a JSON list of agent ids and "prefix*" patterns; '[]' = team key.
ALTER TABLE api_keys ADD COLUMN agents TEXT NOT NULL DEFAULT '[]';
