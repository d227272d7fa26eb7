-- Cross-process change log: SQLite only (sqlite/0005_change_log.sql). On PostgreSQL the
-- instances sharing a database already carry changes to each other with LISTEN/NOTIFY
-- (events/pg_notify.py), so this number changes nothing here; it exists so both dialects keep
-- the same numbered set.
SELECT 1;
