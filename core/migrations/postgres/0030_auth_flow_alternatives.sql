-- PostgreSQL twin of ../0030_auth_flow_alternatives.sql.
-- A step of a channel's flow may be answered with another factor instead ("Use security
-- questions instead" at the emailed-code step): JSON pairs [factor, alternative].
ALTER TABLE auth_flows ADD COLUMN alternatives TEXT NOT NULL DEFAULT '[]';

-- Phones get the code by email, but the work mailbox is often what the locked account
-- guards: the default phone flow lets people answer their security questions instead.
UPDATE auth_flows SET alternatives = '[["email_code","security_questions"]]'
 WHERE scope = 'mobile' AND factors = '["captcha","email_code"]';
