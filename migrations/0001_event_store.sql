-- The event log. global_position is the append order; subscribers read in (transaction_id, global_position)
-- order and only below the oldest running transaction, so an event committed out of sequence order is
-- never skipped (DESIGN.md §4).
CREATE TABLE events (
  global_position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id       TEXT        NOT NULL,
  stream_revision BIGINT      NOT NULL,
  event_id        UUID        NOT NULL UNIQUE,
  type            TEXT        NOT NULL,
  data            JSONB       NOT NULL,
  metadata        JSONB       NOT NULL,
  transaction_id  XID8        NOT NULL DEFAULT pg_current_xact_id(),
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_revision)
);
CREATE INDEX events_transaction_order ON events (transaction_id, global_position);

-- One row per stream: the row lock serialises writers of one stream; writers of different streams run in parallel.
CREATE TABLE streams (
  stream_id TEXT   PRIMARY KEY,
  revision  BIGINT NOT NULL
);

-- Write-side record of answered Idempotency-Keys (the events themselves are idempotent by id).
CREATE TABLE idempotency_keys (
  scope        TEXT        NOT NULL,
  key          TEXT        NOT NULL,
  request_hash TEXT        NOT NULL,
  response     JSONB       NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
