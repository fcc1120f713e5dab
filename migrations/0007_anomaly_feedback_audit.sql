-- Operator console (issue #16): the anomaly detail shows its audit trail and every verdict given on it.
-- anomaly_results keeps the AnomalyDetected event's causation (source events) and correlation id; existing rows
-- get them on the next `projections rebuild anomaly_results` (NULL until then).
ALTER TABLE anomaly_results ADD COLUMN source_event_ids JSONB;
ALTER TABLE anomaly_results ADD COLUMN correlation_id TEXT;

-- One row per AnomalyFeedbackRecorded, in log order (position), owned by the anomaly_results projection.
CREATE TABLE anomaly_feedback (
  event_id         UUID        PRIMARY KEY,
  anomaly_id       UUID        NOT NULL,
  system_id        TEXT        NOT NULL,
  actor            TEXT        NOT NULL,
  verdict          TEXT        NOT NULL CHECK (verdict IN ('confirmed', 'false_positive')),
  note             TEXT,
  commit_position  BIGINT      NOT NULL,
  prepare_position BIGINT      NOT NULL,
  recorded_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX anomaly_feedback_anomaly ON anomaly_feedback (anomaly_id, commit_position, prepare_position);
