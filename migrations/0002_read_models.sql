-- Each projection's position in the global log, written in the same transaction as its read model.
CREATE TABLE projection_checkpoints (
  name             TEXT        PRIMARY KEY,
  commit_position  BIGINT      NOT NULL,
  prepare_position BIGINT      NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE sensor_readings (
  system_id    TEXT             NOT NULL,
  equipment_id TEXT             NOT NULL,
  sensor_id    TEXT             NOT NULL,
  ts           TIMESTAMPTZ      NOT NULL,
  v            DOUBLE PRECISION NOT NULL,
  unit         TEXT,
  meta         JSONB,
  event_id     UUID             NOT NULL,
  PRIMARY KEY (system_id, sensor_id, ts, equipment_id)
);
CREATE INDEX sensor_readings_system_ts ON sensor_readings (system_id, ts);

CREATE TABLE quarantined_rows (
  batch_id       UUID        NOT NULL,
  row_number     INTEGER     NOT NULL,
  system_id      TEXT,
  raw            JSONB       NOT NULL,
  reasons        JSONB       NOT NULL,
  event_id       UUID        NOT NULL,
  quarantined_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (batch_id, row_number)
);
CREATE INDEX quarantined_rows_system ON quarantined_rows (system_id, quarantined_at);
