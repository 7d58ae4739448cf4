-- The clickstream walkthrough, part 3: drop what setup.sql created.
DROP SINK page_counts;

DROP STREAM clicks;

SHOW STREAMS;
