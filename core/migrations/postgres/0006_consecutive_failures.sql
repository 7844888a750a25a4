-- PostgreSQL twin of ../0006_consecutive_failures.sql.
-- Failed sign-ins in a row, whatever the lockout policy: at 100 sign-in pauses (NIST SP
-- 800-63B), even for an organisation that never locks (core/src/lockout.rs).
ALTER TABLE accounts ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_failure_at BIGINT;
