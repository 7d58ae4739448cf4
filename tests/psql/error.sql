SELECT page, COUNT(*) FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE);
-- Run with ON_ERROR_STOP=1: psql stops at the error above (exit status 3)
-- and never sends this one, so stdout stays empty.
SELECT COUNT(*) AS never_run FROM clicks;
