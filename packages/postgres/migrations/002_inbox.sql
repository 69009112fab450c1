-- The inbox: the key of every message a consumer handled, written in the handler's transaction.
CREATE TABLE "herald".inbox (
  source      text NOT NULL,
  id          text NOT NULL,
  handled_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, id)
);

CREATE INDEX inbox_handled_at ON "herald".inbox (handled_at);
