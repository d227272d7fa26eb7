-- Search: pg_trgm GIN indexes narrow candidates for the same RapidFuzz scoring as SQLite's
-- FTS5 trigram index (sqlite/0003_search.sql). A piece of a query matches a message when the
-- lower-cased content (or the string values of its metadata) contains it: the same substring
-- semantics as an FTS5 trigram phrase, answered by `LIKE '%piece%'` on these indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The string values of a metadata JSON object, space-separated (FTS5's "meta" column).
CREATE FUNCTION scs_meta_text(meta TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT string_agg(v #>> '{}', ' ')
    FROM jsonb_path_query(meta::jsonb, 'strict $.**') AS v
    WHERE jsonb_typeof(v) = 'string'
$$;

-- The operator class lives wherever pg_trgm was installed (public unless it already existed).
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX messages_content_trgm ON messages USING gin (lower(content) %I.gin_trgm_ops)',
        trgm_schema
    );
    EXECUTE format(
        'CREATE INDEX messages_meta_trgm ON messages '
        'USING gin (lower(scs_meta_text(metadata)) %I.gin_trgm_ops)',
        trgm_schema
    );
END
$$;
