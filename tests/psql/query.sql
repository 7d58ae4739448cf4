-- The clickstream walkthrough, part 2, after the test has produced the six
-- clicks of tests/slt/clickstream.slt: bounded queries over the stream.
SELECT page, COUNT(*) FROM clicks GROUP BY page ORDER BY page;

SELECT page,
       TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start,
       TUMBLE_END(ts, INTERVAL '1' MINUTE) AS window_end,
       COUNT(*) AS clicks
  FROM clicks
  GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE)
  ORDER BY window_start, page;
