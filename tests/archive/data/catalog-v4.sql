BEGIN TRANSACTION;
CREATE TABLE articles (
    slug TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    digest BLOB NOT NULL,
    feed_digest BLOB,
    layout INTEGER NOT NULL DEFAULT 0,
    guid TEXT,
    old_link TEXT,
    path_id INTEGER NOT NULL,
    shard TEXT NOT NULL DEFAULT ''
);
INSERT INTO "articles" VALUES('voa','aaaaaaaaaaaa','articles/voa/2024/01/x-aaaaaaaaaaaa.md',1704067200000,'标题','https://voa.test/a',X'5B3975651C3CAB92D044C096DC30A1C2D9525497457472DE48C51ECB363D1F4A',X'4A33EACD5FA65F2B2E2871CD131286B53C415B131666D71173BB6E3FE59361B3',0,NULL,NULL,-4947638656783103802,'');
INSERT INTO "articles" VALUES('voa','bbbbbbbbbbbb','articles/voa/2024/01/y-bbbbbbbbbbbb.md',1704067300000,'二','https://voa.test/b',X'3E23E8160039594A33894F6564E1B1348BBD7A0088D42C4ACB73EEAED59C009D','page-pending',0,NULL,NULL,6013712276281899354,'2027');
INSERT INTO "articles" VALUES('voa','3ae9fe0d8b97','articles/美国之音/123_标题.md',1600000000000,'旧','http://voa.test/old?','d-not-hex',NULL,2,'guid-old','http://voa.test/old?',6574306983683176652,'');
INSERT INTO "articles" VALUES('bbc','Not-Hex-Key','articles/bbc/2024/02/z.md',1706000000000,'三','https://bbc.test/c',X'2E7D2C03A9507AE265ECF5B5356885A53393A2029D241394997265A1A25AEFC6',NULL,0,NULL,NULL,-3010536585380467016,'');
CREATE TABLE assets (url TEXT PRIMARY KEY, path TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO "assets" VALUES('https://voa.test/a.png','assets/voa/2024/01/abc.png');
CREATE TABLE feed_bodies (path_id INTEGER PRIMARY KEY, digest BLOB NOT NULL, html BLOB);
INSERT INTO "feed_bodies" VALUES(-4947638656783103802,X'5B3975651C3CAB92D044C096DC30A1C2D9525497457472DE48C51ECB363D1F4A',X'7801B329B07BB676F1B369ED36FA0576002E38063D');
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO "meta" VALUES('folders','{"美国之音": "voa"}');
INSERT INTO "meta" VALUES('head','abababababababababababababababababababab');
INSERT INTO "meta" VALUES('head:2027','cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd');
INSERT INTO "meta" VALUES('schema','4');
CREATE UNIQUE INDEX articles_by_key ON articles (slug, key);
CREATE INDEX articles_by_path ON articles (path_id);
CREATE INDEX articles_by_time ON articles (slug, published_ms DESC);
CREATE INDEX articles_by_time_all ON articles (published_ms DESC);
CREATE INDEX articles_old_by_link ON articles (slug, old_link) WHERE old_link IS NOT NULL;
CREATE INDEX articles_old_by_guid ON articles (slug, guid) WHERE guid IS NOT NULL;
COMMIT;
