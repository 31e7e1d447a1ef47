-- newsflow storage schema 1 (SQLite): one row per (id, revision) of news.articles, and an
-- FTS5 index kept in step by triggers. Same logical schema as ../postgres/0001_articles.sql.

CREATE TABLE articles (
    -- The rowid FTS5 points at. Declared, because VACUUM may renumber an implicit rowid and
    -- would silently detach the index; (id, revision) is the logical key, enforced below.
    row_id        INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL,
    revision      INTEGER NOT NULL CHECK (revision >= 1),
    article_key   TEXT    NOT NULL,
    url           TEXT,
    canonical_url TEXT,
    feed_id       TEXT    NOT NULL,
    source        TEXT,
    title         TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    content_html  TEXT    NOT NULL,
    lang          TEXT,
    authors       TEXT    NOT NULL CHECK (json_valid(authors)),     -- JSON array of names
    categories    TEXT    NOT NULL CHECK (json_valid(categories)),  -- JSON array
    -- Times are RFC 3339 UTC with milliseconds and "Z" (pipeline.clock.rfc3339): one fixed
    -- format, so comparing and sorting the text compares and sorts the times.
    published_at  TEXT    NOT NULL,
    published_raw TEXT,
    fetched_at    TEXT    NOT NULL,
    processed_at  TEXT    NOT NULL,
    content_hash  TEXT    NOT NULL,
    tags          TEXT    NOT NULL CHECK (json_valid(tags)),        -- JSON array of tag objects
    story_id      TEXT,
    update_of     TEXT,
    stored_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (id, revision)
);

CREATE INDEX articles_published_at ON articles (published_at);

-- External content: the text lives once, in articles. unicode61 without stemming or accent
-- folding, to match PostgreSQL's 'simple' configuration (see ../postgres/0001_articles.sql).
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, text,
    content = 'articles', content_rowid = 'row_id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, summary, text)
    VALUES (new.row_id, new.title, new.summary, new.text);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.row_id, old.title, old.summary, old.text);
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary, text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.row_id, old.title, old.summary, old.text);
    INSERT INTO articles_fts (rowid, title, summary, text)
    VALUES (new.row_id, new.title, new.summary, new.text);
END;
