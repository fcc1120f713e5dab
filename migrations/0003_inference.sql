-- Inference saga state, written in the same transaction as its checkpoint ('inference-saga' in
-- projection_checkpoints): a crash at any point resumes with exactly the windows it had (docs/inference-saga.md).

-- Open (not yet scored) windows: samples merged per second, the ingest events that fed them.
CREATE TABLE inference_windows (
  system_id        TEXT        NOT NULL,
  equipment_id     TEXT        NOT NULL,
  window_start     TIMESTAMPTZ NOT NULL,
  samples          JSONB       NOT NULL,
  source_event_ids JSONB       NOT NULL,
  correlation_id   TEXT        NOT NULL,
  causation_id     UUID        NOT NULL,
  -- created_at of the ingest event that opened the window: the flush clock is log time, so replay is deterministic.
  opened_at        TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (system_id, equipment_id, window_start)
);

-- Per equipment: newest finalised window (older samples are late), event-time watermark, adaptive-threshold state.
CREATE TABLE inference_equipment (
  system_id          TEXT        NOT NULL,
  equipment_id       TEXT        NOT NULL,
  last_closed_start  TIMESTAMPTZ,
  watermark          TIMESTAMPTZ,
  adaptive_state     JSONB,
  late_samples       BIGINT      NOT NULL DEFAULT 0,
  dropped_windows    BIGINT      NOT NULL DEFAULT 0,
  scored_windows     BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (system_id, equipment_id)
);

-- Read model of AnomalyDetected (and, from the read side, re-projection results). Keyset pagination newest first.
CREATE TABLE anomaly_results (
  event_id           UUID             NOT NULL,
  system_id          TEXT             NOT NULL,
  equipment_id       TEXT             NOT NULL,
  window_start       TIMESTAMPTZ      NOT NULL,
  window_end         TIMESTAMPTZ      NOT NULL,
  model              TEXT             NOT NULL DEFAULT 'ensemble',
  model_version      TEXT             NOT NULL,
  score              DOUBLE PRECISION NOT NULL,
  severity           TEXT             NOT NULL,
  affected_component TEXT,
  components         JSONB            NOT NULL,
  votes              JSONB            NOT NULL,
  confidence         DOUBLE PRECISION NOT NULL,
  is_anomaly         BOOLEAN          NOT NULL,
  source             TEXT             NOT NULL CHECK (source IN ('saga', 'analysis', 'reprojection')),
  feedback           TEXT,
  recorded_at        TIMESTAMPTZ      NOT NULL,
  PRIMARY KEY (system_id, model_version, equipment_id, window_start)
);
CREATE INDEX anomaly_results_keyset ON anomaly_results (system_id, window_start DESC, event_id);
CREATE INDEX anomaly_results_event ON anomaly_results (event_id);

-- Read model of one analysis (AnalysisRequested/Started/Progressed/Completed/Failed).
CREATE TABLE analyses (
  analysis_id      UUID        PRIMARY KEY,
  system_id        TEXT        NOT NULL,
  range_from       TIMESTAMPTZ NOT NULL,
  range_to         TIMESTAMPTZ NOT NULL,
  mode             TEXT        NOT NULL,
  model_version    TEXT        NOT NULL,
  status           TEXT        NOT NULL CHECK (status IN ('requested', 'running', 'completed', 'failed')),
  attempts         INTEGER     NOT NULL DEFAULT 0,
  windows_total    INTEGER,
  windows_done     INTEGER     NOT NULL DEFAULT 0,
  windows          INTEGER,
  anomalies        INTEGER,
  already_recorded INTEGER,
  error            TEXT,
  duration_ms      DOUBLE PRECISION,
  requested_at     TIMESTAMPTZ NOT NULL,
  updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX analyses_system ON analyses (system_id, requested_at DESC);
