-- Search: a trigram full-text index over message content and the string values of message
-- metadata. Contentless (content=''): the text lives once, in messages; the index holds only
-- trigram postings. Triggers keep it in step; a contentless FTS5 delete must be given the exact
-- values that were indexed, which the triggers recompute from the old row.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    meta,
    content = '',
    tokenize = 'trigram',
    detail = full
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, meta)
    VALUES (
        new.id,
        new.content,
        CASE WHEN json_valid(new.metadata) THEN
            (SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text')
        END
    );
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, meta)
    VALUES (
        'delete',
        old.id,
        old.content,
        CASE WHEN json_valid(old.metadata) THEN
            (SELECT group_concat(value, ' ') FROM json_tree(old.metadata) WHERE type = 'text')
        END
    );
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, metadata ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, meta)
    VALUES (
        'delete',
        old.id,
        old.content,
        CASE WHEN json_valid(old.metadata) THEN
            (SELECT group_concat(value, ' ') FROM json_tree(old.metadata) WHERE type = 'text')
        END
    );
    INSERT INTO messages_fts (rowid, content, meta)
    VALUES (
        new.id,
        new.content,
        CASE WHEN json_valid(new.metadata) THEN
            (SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text')
        END
    );
END;

-- Index the messages written before this migration.
INSERT INTO messages_fts (rowid, content, meta)
SELECT
    m.id,
    m.content,
    CASE WHEN json_valid(m.metadata) THEN
        (SELECT group_concat(value, ' ') FROM json_tree(m.metadata) WHERE type = 'text')
    END
FROM messages AS m;
