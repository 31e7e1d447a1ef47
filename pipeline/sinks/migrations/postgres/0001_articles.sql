-- newsflow storage schema 1 (PostgreSQL): one row per (id, revision) of news.articles, with a
-- generated tsvector and a GIN index. Same logical schema as ../sqlite/0001_articles.sql.

CREATE TABLE articles (
    id            text        NOT NULL,
    revision      integer     NOT NULL CHECK (revision >= 1),
    article_key   text        NOT NULL,
    url           text,
    canonical_url text,
    feed_id       text        NOT NULL,
    source        text,
    title         text        NOT NULL,
    summary       text        NOT NULL,
    text          text        NOT NULL,
    content_html  text        NOT NULL,
    lang          text,
    authors       jsonb       NOT NULL,  -- JSON array of names
    categories    jsonb       NOT NULL,  -- JSON array
    published_at  timestamptz NOT NULL,
    published_raw text,
    fetched_at    timestamptz NOT NULL,
    processed_at  timestamptz NOT NULL,
    content_hash  text        NOT NULL,
    tags          jsonb       NOT NULL,  -- JSON array of tag objects
    story_id      text,
    update_of     text,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    -- 'simple', not 'english': feeds come in many languages (the row's lang varies), and the
    -- English stemmer and stop words would mangle the others and drop words like "US" or
    -- "The Who". 'simple' lower-cases and nothing else: exact words, the same in every
    -- language, and the same matches as SQLite's unicode61 tokenizer.
    search        tsvector GENERATED ALWAYS AS (
                      setweight(to_tsvector('simple', title), 'A')
                      || setweight(to_tsvector('simple', summary), 'B')
                      || setweight(to_tsvector('simple', text), 'C')
                  ) STORED,
    PRIMARY KEY (id, revision)
);

CREATE INDEX articles_search ON articles USING gin (search);
-- For the tag filter: tags @> '[{"name": "ceasefire"}]'.
CREATE INDEX articles_tags ON articles USING gin (tags jsonb_path_ops);
CREATE INDEX articles_published_at ON articles (published_at);
