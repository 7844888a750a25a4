-- PostgreSQL twin of ../0007_sealed_outbox_codes.sql.
-- One-time codes in the outbox are sealed (ChaCha20-Poly1305 under a key derived from the
-- master key) instead of kept in clear, so that neither the table, nor the write-ahead log,
-- nor a copy of the database holds a usable code. The migration cannot seal (it has no
-- key), so a code mail still waiting in clear is given up: its code expires within
-- minutes anyway, and the person asks for a new one.
ALTER TABLE outbox ADD COLUMN sealed_code BYTEA;
UPDATE outbox SET status = 'failed', secret = NULL, failed_at = next_attempt_at,
                  last_error = 'given up when codes in the outbox became encrypted',
                  claim_token = NULL, claimed_until = NULL
 WHERE secret IS NOT NULL;
ALTER TABLE outbox DROP COLUMN secret;
