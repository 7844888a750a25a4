-- Self-service: security questions, authenticator apps, the authentication flow of each
-- channel, self-service flows, per-name throttling and spent captchas.

-- An organisation's rule for security questions.
ALTER TABLE organisations ADD COLUMN questions_to_enrol INTEGER NOT NULL DEFAULT 3;
ALTER TABLE organisations ADD COLUMN questions_to_ask INTEGER NOT NULL DEFAULT 2;
ALTER TABLE organisations ADD COLUMN answer_min_chars INTEGER NOT NULL DEFAULT 3;

-- The administrator's catalogue.
CREATE TABLE security_questions (
    id               INTEGER PRIMARY KEY,
    organisation_id  INTEGER NOT NULL REFERENCES organisations(id),
    text             TEXT    NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at       INTEGER NOT NULL,
    UNIQUE (organisation_id, text)
);

-- A person's enrolled questions: from the catalogue, or their own custom question.
CREATE TABLE security_answers (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    question_id      INTEGER REFERENCES security_questions(id),
    custom_question  TEXT,
    -- Argon2id of the normalised answer.
    answer_hash      TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    CHECK ((question_id IS NULL) <> (custom_question IS NULL))
);
CREATE INDEX security_answers_account ON security_answers(account_id);

CREATE TABLE totp_credentials (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts(id),
    -- Nonce and ChaCha20-Poly1305 ciphertext of the confirmed secret, if any.
    sealed_secret   BLOB,
    confirmed_at    INTEGER,
    -- The last 30-second step accepted: no code is accepted twice.
    last_used_step  INTEGER NOT NULL DEFAULT 0,
    -- A new secret being set up; it replaces the confirmed one only once a code from it
    -- has been entered.
    pending_secret  BLOB,
    updated_at      INTEGER NOT NULL
);

-- The ordered factors of each channel; 'all' applies where a channel has no row.
CREATE TABLE auth_flows (
    scope       TEXT    PRIMARY KEY CHECK (scope IN ('all', 'web', 'mobile', 'desktop')),
    factors     TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO auth_flows (scope, factors, updated_at) VALUES
    ('web',     '["captcha","security_questions"]', 0),
    ('desktop', '["captcha","security_questions"]', 0),
    ('mobile',  '["captcha","email_code"]', 0);

CREATE TABLE self_service_flows (
    -- SHA-256 of the token the browser holds.
    id_hash       TEXT    PRIMARY KEY,
    action        TEXT    NOT NULL CHECK (action IN ('unlock', 'reset_password')),
    channel       TEXT    NOT NULL CHECK (channel IN ('web', 'mobile', 'desktop')),
    steps         TEXT    NOT NULL,
    account_id    INTEGER REFERENCES accounts(id),
    subject_name  TEXT,
    state         TEXT    NOT NULL,
    client_addr   TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX self_service_flows_expiry ON self_service_flows(expires_at);

-- Failed self-service authentications per name (real or not, so that both behave alike).
CREATE TABLE self_service_throttle (
    subject_name      TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL,
    first_failure_at  INTEGER,
    blocked_until     INTEGER
);

-- Captcha solutions already accepted: each is accepted once.
CREATE TABLE captcha_spent (
    signature   TEXT    PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
