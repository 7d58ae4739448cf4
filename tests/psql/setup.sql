-- The clickstream walkthrough, part 1: declare a stream over a topic and a
-- sink counting clicks per page per minute. TestPsqlWalkthrough runs this
-- with `psql -X -v ON_ERROR_STOP=1 -P pager=off -f setup.sql` and compares
-- stdout with setup.out.
CREATE STREAM clicks (user_id BIGINT, page VARCHAR, ts TIMESTAMP)
  WITH (kafka_topic = 'clicks', value_format = 'json', timestamp = 'ts',
        partitions = 4, watermark_delay = '5 seconds', idle_timeout = '1 second');

SHOW TOPICS;

DESCRIBE clicks;

SHOW STREAMS;

CREATE SINK page_counts WITH (kafka_topic = 'page_counts') AS
  SELECT page, TUMBLE_START(ts, INTERVAL '1' MINUTE) AS window_start, COUNT(*) AS clicks
  FROM clicks
  GROUP BY page, TUMBLE(ts, INTERVAL '1' MINUTE);
