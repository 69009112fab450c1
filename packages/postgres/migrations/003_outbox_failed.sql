-- Entries a relay gave up on: after `maxAttempts` refused publishes an entry is parked, with
-- failed_at set and available_at 'infinity', so that no claim takes it (and, for a keyed entry,
-- none of the entries after it in its key) until PostgresOutboxStore.retryFailed() puts it back.
ALTER TABLE "herald".outbox ADD COLUMN failed_at timestamptz;

CREATE INDEX outbox_failed ON "herald".outbox (seq) WHERE failed_at IS NOT NULL;
