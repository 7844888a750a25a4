-- Server-side sessions and the tamper-evident audit log.

-- A session is known by the SHA-256 of its cookie token, so a copy of the database does
-- not hand out live sessions.
CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    -- Absolute end of the session, whatever the activity.
    expires_at    INTEGER NOT NULL,
    client_addr   TEXT,
    revoked_at    INTEGER
);
CREATE INDEX sessions_account ON sessions(account_id);

-- Append-only. Each record carries the hash of the previous one (a hash chain), so an
-- edited, removed or reordered record is detected by `latchkey audit verify`.
CREATE TABLE audit_log (
    seq                 INTEGER PRIMARY KEY,
    at                  INTEGER NOT NULL,
    actor               TEXT    NOT NULL,
    actor_account_id    INTEGER,
    subject_account_id  INTEGER,
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

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
