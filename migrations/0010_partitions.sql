-- Partitioned saga and projections (issue #19, docs/production.md "Scale-out").
-- Each event's partition key: the first 31 bits of md5(systemId U+001F equipmentId), as src/events/partition-key.ts
-- computes it at append time; null for events without an equipment, which every partition receives.
ALTER TABLE events ADD COLUMN partition_key INTEGER;
UPDATE events
   SET partition_key = (('x' || substr(md5((data->>'systemId') || chr(31) || (data->>'equipmentId')), 1, 8))::bit(32)::int & 2147483647)
 WHERE jsonb_typeof(data->'systemId') = 'string' AND jsonb_typeof(data->'equipmentId') = 'string';

-- The number of partitions is one fact of the deployment, not of each process: workers read it here, and only
-- `projections repartition` changes it (after every partition reached the same position).
CREATE TABLE projection_partitioning (
  id         BOOLEAN     PRIMARY KEY DEFAULT true CHECK (id),
  partitions INTEGER     NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The fence of every lease (a partition of a partitioned consumer, or a whole singleton projection): a worker
-- that takes a lease raises its epoch, and every write of the lease's work checks the epoch in its own
-- transaction. A worker that lost the lease (and does not know it yet) can then commit nothing more.
CREATE TABLE lease_fences (
  name        TEXT        PRIMARY KEY,
  epoch       BIGINT      NOT NULL,
  owner       TEXT        NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
