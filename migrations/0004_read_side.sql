-- Read side for trends, health, the systems list and model promotion (docs/read-models.md).
-- Every table here is written by a projection in src/projections/ (checkpoint in the same transaction), except rows
-- with source = 'reprojection', which `models reproject` writes without events; rebuilds keep those rows and
-- `projections verify` leaves them out of the comparison.

-- One row per scored window the read side knows: AnomalyDetected events ('live') and re-projection results.
-- Same key as anomaly_results plus `source`, so a candidate version's re-projection never overwrites live rows.
CREATE TABLE anomaly_trend_windows (
  system_id          TEXT        NOT NULL,
  model_version      TEXT        NOT NULL,
  source             TEXT        NOT NULL CHECK (source IN ('live', 'reprojection')),
  equipment_id       TEXT        NOT NULL,
  window_start       TIMESTAMPTZ NOT NULL,
  window_end         TIMESTAMPTZ NOT NULL,
  is_anomaly         BOOLEAN     NOT NULL,
  severity           TEXT        NOT NULL,
  affected_component TEXT,
  components         JSONB       NOT NULL,
  score              DOUBLE PRECISION NOT NULL,
  event_id           UUID,
  feedback           TEXT,
  PRIMARY KEY (system_id, model_version, source, equipment_id, window_start)
);
CREATE INDEX anomaly_trend_windows_event ON anomaly_trend_windows (event_id) WHERE event_id IS NOT NULL;
-- Health and "open anomalies": the newest live anomalies of a system.
CREATE INDEX anomaly_trend_windows_open ON anomaly_trend_windows (system_id, window_end DESC)
  WHERE source = 'live' AND is_anomaly;

-- Hourly rollup maintained incrementally by the projection (plain PostgreSQL / PGlite path; kept on TimescaleDB
-- too, where the continuous aggregates below serve the trend query). component '' = none.
CREATE TABLE anomaly_trend_hourly (
  system_id     TEXT        NOT NULL,
  model_version TEXT        NOT NULL,
  source        TEXT        NOT NULL CHECK (source IN ('live', 'reprojection')),
  bucket        TIMESTAMPTZ NOT NULL,
  severity      TEXT        NOT NULL,
  component     TEXT        NOT NULL,
  anomalies     BIGINT      NOT NULL,
  PRIMARY KEY (system_id, bucket, model_version, source, severity, component)
);

-- The UI's entry point: every system with its equipment and newest reading (GET /api/v1/systems).
CREATE TABLE system_equipment (
  system_id        TEXT        NOT NULL,
  equipment_id     TEXT        NOT NULL,
  first_reading_at TIMESTAMPTZ NOT NULL,
  last_reading_at  TIMESTAMPTZ NOT NULL,
  samples          BIGINT      NOT NULL,
  PRIMARY KEY (system_id, equipment_id)
);

-- ModelVersionPromoted per profile: the version the inference saga scores with.
CREATE TABLE active_model_versions (
  profile          TEXT        PRIMARY KEY,
  model_version    TEXT        NOT NULL,
  previous_version TEXT,
  promoted_at      TIMESTAMPTZ NOT NULL,
  event_id         UUID        NOT NULL,
  actor            TEXT
);

-- TimescaleDB path (tested on TimescaleDB 2.28.3 / PostgreSQL 15: docs/timescaledb.md).
-- Migrations run inside one transaction, so continuous aggregates are created WITH NO DATA (WITH DATA cannot run
-- inside a transaction block or a function) and are filled by their refresh policies.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
    RAISE NOTICE 'read models: no timescaledb extension on this server, plain PostgreSQL path';
  -- Installed but not preloaded: CREATE EXTENSION would end the connection with a FATAL ("extension "timescaledb"
  -- must be preloaded"), which no EXCEPTION block catches, so look before creating it. The service's start-up log
  -- says which path was taken (src/read-side/read-models-message.ts).
  ELSIF NOT ('timescaledb' = ANY (SELECT btrim(lib, ' "')
             FROM unnest(string_to_array(current_setting('shared_preload_libraries'), ',')) AS lib)) THEN
    RAISE NOTICE 'read models: timescaledb is installed but not in shared_preload_libraries, plain PostgreSQL path';
  ELSE
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    RAISE NOTICE 'read models: TimescaleDB path';
  END IF;

  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    -- ~1.5M values/day per rig (17 sensors, up to 1 Hz): 1-day chunks keep each chunk's indexes in memory
    -- for the write path and let compression and retention work in whole days.
    EXECUTE $q$SELECT create_hypertable('sensor_readings', 'ts', chunk_time_interval => INTERVAL '1 day',
      migrate_data => true, if_not_exists => true)$q$;
    EXECUTE $q$ALTER TABLE sensor_readings SET (timescaledb.compress,
      timescaledb.compress_segmentby = 'system_id, sensor_id', timescaledb.compress_orderby = 'ts DESC, equipment_id')$q$;
    EXECUTE $q$SELECT add_compression_policy('sensor_readings', INTERVAL '7 days', if_not_exists => true)$q$;
    EXECUTE $q$SELECT add_retention_policy('sensor_readings', INTERVAL '5 years', if_not_exists => true)$q$;

    -- Windows are far fewer than readings: 7-day chunks.
    EXECUTE $q$SELECT create_hypertable('anomaly_trend_windows', 'window_start', chunk_time_interval => INTERVAL '7 days',
      migrate_data => true, if_not_exists => true)$q$;

    EXECUTE $q$CREATE MATERIALIZED VIEW anomaly_trend_hourly_cagg
      WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT system_id, model_version, source, time_bucket(INTERVAL '1 hour', window_start) AS bucket,
             severity, coalesce(affected_component, '') AS component, count(*) AS anomalies
      FROM anomaly_trend_windows WHERE is_anomaly
      GROUP BY system_id, model_version, source, time_bucket(INTERVAL '1 hour', window_start), severity,
               coalesce(affected_component, '')
      WITH NO DATA$q$;
    EXECUTE $q$CREATE MATERIALIZED VIEW anomaly_trend_daily_cagg
      WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
      SELECT system_id, model_version, source, time_bucket(INTERVAL '1 day', window_start) AS bucket,
             severity, coalesce(affected_component, '') AS component, count(*) AS anomalies
      FROM anomaly_trend_windows WHERE is_anomaly
      GROUP BY system_id, model_version, source, time_bucket(INTERVAL '1 day', window_start), severity,
               coalesce(affected_component, '')
      WITH NO DATA$q$;
    -- Real-time aggregation (materialized_only = false) covers the newest, not yet materialised buckets.
    EXECUTE $q$SELECT add_continuous_aggregate_policy('anomaly_trend_hourly_cagg',
      start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes')$q$;
    EXECUTE $q$SELECT add_continuous_aggregate_policy('anomaly_trend_daily_cagg',
      start_offset => INTERVAL '400 days', end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour')$q$;
  END IF;
END $$;
