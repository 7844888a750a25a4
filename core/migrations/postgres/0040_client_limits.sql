-- PostgreSQL twin of ../0040_client_limits.sql.
-- Per-client rate limits, shared by every server on this database (core/src/throttle.rs):
-- one row per key (`requests:<address>`, `failures:<address>`, `blocked:<address>`)
-- with its theoretical arrival time (GCRA) or the end of a block, in microseconds since
-- 1970. A row whose time has passed means the same as no row, so old rows are deleted
-- freely.
CREATE TABLE client_limits (
    key  TEXT    PRIMARY KEY,
    tat  BIGINT  NOT NULL
);
CREATE INDEX client_limits_tat ON client_limits(tat);
