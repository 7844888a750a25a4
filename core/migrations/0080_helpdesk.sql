-- The helpdesk (issue 14, seed 004). (Numbered 0080: 0080–0089 are this work's range.)
--
-- Each role's helpdesk mode per organisation. A role with no row has its default:
-- administrators unrestricted, helpdesk operators and support agents restricted.
CREATE TABLE helpdesk_modes (
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    role             TEXT    NOT NULL,
    mode             TEXT    NOT NULL CHECK (mode IN ('restricted', 'unrestricted')),
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, role)
);

-- An operator's check of a caller's identity with one of the person's factors: what was
-- asked (the prompt, and the factor's private state such as which questions or which
-- emailed code), and how it ended. Never the answers: those are checked and forgotten.
-- A passed check lets that operator unlock that person's accounts for a few minutes,
-- and the unlock's audit record cites it.
CREATE TABLE caller_checks (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,
    operator_id  INTEGER NOT NULL REFERENCES accounts(id),
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    person_id    INTEGER NOT NULL REFERENCES persons(id),
    factor       TEXT    NOT NULL,
    prompt       TEXT    NOT NULL,
    kept         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('asking', 'passed', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER
);
CREATE INDEX caller_checks_passed ON caller_checks(operator_id, person_id, state, decided_at);
