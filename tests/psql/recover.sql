-- psql is started with -v ON_ERROR_STOP=1; this file turns it off, so every
-- statement runs on the same connection and a failed statement must leave
-- the session usable. Errors go to stderr (recover.err), results to stdout
-- (recover.out).
\set ON_ERROR_STOP 0
SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);
SELECT page, COUNT(*) AS n FROM clicks GROUP BY page ORDER BY page;
SELEC page FROM clicks;
SELECT nope FROM clicks;
SELECT COUNT(*) AS total FROM clicks;
