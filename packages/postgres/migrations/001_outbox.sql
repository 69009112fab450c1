-- The outbox: one row per message, written in the application's transaction, published by relays.
-- "herald" stands for the schema given to migrate(); every object lives in it.
CREATE TABLE "herald".outbox (
  seq          bigserial PRIMARY KEY,
  id           text NOT NULL UNIQUE,
  key          text,
  target       jsonb NOT NULL,
  headers      jsonb NOT NULL DEFAULT '{}',
  body         jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  available_at timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  published_at timestamptz
);

-- What relays claim: unpublished rows in commit order, and per key.
CREATE INDEX outbox_pending ON "herald".outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_pending_key ON "herald".outbox (key, seq) WHERE published_at IS NULL AND key IS NOT NULL;
-- What retention deletes.
CREATE INDEX outbox_published ON "herald".outbox (published_at) WHERE published_at IS NOT NULL;

-- Relays LISTEN on "<schema>.outbox"; a notification is delivered when the inserting transaction
-- commits (and not at all when it rolls back).
CREATE FUNCTION "herald".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON "herald".outbox
  FOR EACH STATEMENT EXECUTE FUNCTION "herald".outbox_notify();
