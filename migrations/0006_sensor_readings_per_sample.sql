-- sensor_readings keeps one row per sample (every sensor of one equipment at one instant) instead of one row
-- per value. For the 17-sensor rig that is 17x fewer rows and index entries, which is what lets the projection
-- keep up with ingest (docs/read-models.md). Values, units and meta are objects keyed by sensor id; the API
-- still answers one item per value. Existing rows are folded into the new shape.
ALTER TABLE sensor_readings RENAME TO sensor_readings_per_value;
ALTER TABLE sensor_readings_per_value RENAME CONSTRAINT sensor_readings_pkey TO sensor_readings_per_value_pkey;
ALTER INDEX sensor_readings_system_ts RENAME TO sensor_readings_per_value_system_ts;

CREATE TABLE sensor_readings (
  system_id     TEXT        NOT NULL,
  equipment_id  TEXT        NOT NULL,
  ts            TIMESTAMPTZ NOT NULL,
  -- {"PS1": 151.2, ...}: a later event for the same sample replaces the sensors it carries, keeps the others.
  sensor_values JSONB       NOT NULL,
  -- {"PS1": "bar"} / {"PS1": {...}} for the sensors that have one; NULL when none has.
  units         JSONB,
  meta          JSONB,
  -- The event that last wrote this sample.
  event_id      UUID        NOT NULL,
  PRIMARY KEY (system_id, equipment_id, ts)
);
CREATE INDEX sensor_readings_system_ts ON sensor_readings (system_id, ts);

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    -- As 0004 did for the per-value table.
    EXECUTE $q$SELECT create_hypertable('sensor_readings', 'ts', chunk_time_interval => INTERVAL '1 day', if_not_exists => true)$q$;
    EXECUTE $q$ALTER TABLE sensor_readings SET (timescaledb.compress,
      timescaledb.compress_segmentby = 'system_id, equipment_id', timescaledb.compress_orderby = 'ts DESC')$q$;
    EXECUTE $q$SELECT add_compression_policy('sensor_readings', INTERVAL '7 days', if_not_exists => true)$q$;
    EXECUTE $q$SELECT add_retention_policy('sensor_readings', INTERVAL '5 years', if_not_exists => true)$q$;
  END IF;
END
$$;

INSERT INTO sensor_readings (system_id, equipment_id, ts, sensor_values, units, meta, event_id)
SELECT system_id, equipment_id, ts,
       jsonb_object_agg(sensor_id, v),
       jsonb_object_agg(sensor_id, unit) FILTER (WHERE unit IS NOT NULL),
       jsonb_object_agg(sensor_id, meta) FILTER (WHERE meta IS NOT NULL),
       (array_agg(event_id ORDER BY sensor_id))[1]
FROM sensor_readings_per_value
GROUP BY system_id, equipment_id, ts;

DROP TABLE sensor_readings_per_value;
