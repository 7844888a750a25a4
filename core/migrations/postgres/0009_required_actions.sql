-- PostgreSQL twin of ../0009_required_actions.sql.
-- Issue 13: what a person must do at their next sign-in before anything else is usable
-- (an operator's MFA reset or resecure sets it), the organisation's acceptable use
-- policy, and the device authorization of a session after an MFA reset.

-- Set by an MFA reset: the next sign-in asks for a code sent by email (device
-- authorization), then a new authenticator.
ALTER TABLE accounts ADD COLUMN mfa_reset_pending BOOLEAN NOT NULL DEFAULT FALSE;
-- Set by a resecure: confirm name, contact address and phone; set new security answers.
ALTER TABLE accounts ADD COLUMN profile_update_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN questions_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN phone TEXT;

-- The acceptable use policy: version 0 means the organisation has none. Editing the text
-- makes a new version, which everyone accepts again (accounts.aup_version).
ALTER TABLE organisations ADD COLUMN aup_text TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN aup_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN aup_updated_at BIGINT;

-- Device authorization happens per session: the code mailed at this sign-in, and when
-- it was typed.
ALTER TABLE sessions ADD COLUMN device_code_id BIGINT REFERENCES one_time_codes(id);
ALTER TABLE sessions ADD COLUMN device_authorized_at BIGINT;
