BEGIN TRANSACTION;
CREATE TABLE articles (
    slug TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    digest TEXT NOT NULL,
    feed_digest TEXT,
    layout TEXT NOT NULL DEFAULT 'newsmirror',
    guid TEXT,
    old_link TEXT,
    PRIMARY KEY (slug, key)
);
INSERT INTO "articles" VALUES('voa','aaaaaaaaaaaa','articles/voa/2024/01/x-aaaaaaaaaaaa.md',1704067200000,'标题','https://voa.test/a','d1','f1','newsmirror',NULL,NULL);
CREATE TABLE assets (url TEXT PRIMARY KEY, path TEXT NOT NULL);
INSERT INTO "assets" VALUES('https://voa.test/a.png','assets/voa/2024/01/abc.png');
CREATE TABLE feed_bodies (path TEXT PRIMARY KEY, digest TEXT NOT NULL, html TEXT);
INSERT INTO "feed_bodies" VALUES('articles/voa/2024/01/x-aaaaaaaaaaaa.md','d1','<p>正文</p>');
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO "meta" VALUES('schema','2');
INSERT INTO "meta" VALUES('folders','{}');
INSERT INTO "meta" VALUES('head','0123456789abcdef0123456789abcdef01234567');
CREATE INDEX articles_by_time ON articles (slug, published_ms DESC);
CREATE INDEX articles_by_time_all ON articles (published_ms DESC);
CREATE INDEX articles_old_by_link ON articles (slug, old_link) WHERE old_link IS NOT NULL;
CREATE INDEX articles_old_by_guid ON articles (slug, guid) WHERE guid IS NOT NULL;
COMMIT;
