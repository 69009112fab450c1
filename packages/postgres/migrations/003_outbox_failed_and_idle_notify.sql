-- Entries a relay gave up on: after `maxAttempts` refused publishes an entry is parked, with
-- failed_at set and available_at 'infinity', so that no claim takes it (and, for a keyed entry,
-- none of the entries after it in its key) until PostgresOutboxStore.retryFailed() puts it back.
ALTER TABLE "herald".outbox ADD COLUMN failed_at timestamptz;

CREATE INDEX outbox_failed ON "herald".outbox (seq) WHERE failed_at IS NOT NULL;

-- NOTIFY only when a relay sleeps: at COMMIT, PostgreSQL lets one notifying transaction through
-- at a time, which caps how fast writers commit. A relay that found nothing to claim holds the
-- idle lock (an advisory lock on the channel's name, in its LISTEN session); a writer that cannot
-- take it in shared mode notifies. One that can holds it until its own commit, so the relay cannot
-- start sleeping before that commit, and claims its rows before it does.
CREATE OR REPLACE FUNCTION "herald".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock_shared(hashtextextended(TG_TABLE_SCHEMA || '.outbox', 0)) THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.outbox', '');
  END IF;
  RETURN NULL;
END;
$$;
