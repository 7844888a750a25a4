-- PostgreSQL twin of ../0002_sessions_audit.sql.
-- Server-side sessions and the tamper-evident audit log.

-- A session is known by the SHA-256 of its cookie token, so a copy of the database does
-- not hand out live sessions.
CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY,
    account_id    BIGINT  NOT NULL REFERENCES accounts(id),
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    -- Absolute end of the session, whatever the activity.
    expires_at    BIGINT  NOT NULL,
    client_addr   TEXT,
    revoked_at    BIGINT
);
CREATE INDEX sessions_account ON sessions(account_id);

-- Append-only. Each record carries the hash of the previous one (a hash chain), so an
-- edited, removed or reordered record is detected by `latchkey audit verify`. Appends
-- take pg_advisory_xact_lock (core/src/store/postgres/audit.rs), so concurrent
-- transactions append one after the other.
CREATE TABLE audit_log (
    seq                 BIGINT  PRIMARY KEY,
    at                  BIGINT  NOT NULL,
    actor               TEXT    NOT NULL,
    actor_account_id    BIGINT,
    subject_account_id  BIGINT,
    subject             TEXT,
    action              TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    client_addr         TEXT,
    outcome             TEXT    NOT NULL,
    details             TEXT    NOT NULL,
    prev_hash           TEXT    NOT NULL,
    hash                TEXT    NOT NULL
);
CREATE INDEX audit_subject ON audit_log(subject_account_id, seq);
CREATE INDEX audit_actor ON audit_log(actor_account_id, seq);
CREATE INDEX audit_at ON audit_log(at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- SQLite has no TRUNCATE; PostgreSQL's would bypass the row triggers.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
