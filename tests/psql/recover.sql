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
-- The same errors again, showing only their SQLSTATEs: PostgreSQL's
-- 42803 (grouping_error), 42601 (syntax_error), 42703 (undefined_column).
\set VERBOSITY sqlstate
SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);
SELEC page FROM clicks;
SELECT nope FROM clicks;
\set VERBOSITY default
SELECT COUNT(*) AS still_here FROM clicks;
