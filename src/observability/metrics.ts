import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the service exports, in one registry. Names follow Prometheus conventions
 * (base units in the name, `_total` on counters). The seed's names map as documented in
 * docs/metrics.md: `ingestion_rate` = rate(readings_accepted_total), `invalid_rows` =
 * invalid_rows_total, `protocol_health` = the protocol_* family.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// prom-client's nodejs_active_{handles,requests,resources}_total are gauges named like counters, which
// `promtool check metrics` rejects. Each is the sum of the same gauge without `_total`, by type
// (sum(nodejs_active_handles)), so dropping them loses nothing.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const metrics = {
  readingsAccepted: new Counter({
    name: 'readings_accepted_total',
    help: 'Sensor values accepted by ingest (the seed calls its rate ingestion_rate)',
    labelNames: ['protocol'] as const,
    registers: [registry],
  }),
  invalidRows: new Counter({
    name: 'invalid_rows_total',
    help: 'Ingest rows quarantined, by reason (the seed calls this invalid_rows)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  protocolRequests: new Counter({
    name: 'protocol_requests_total',
    help: 'Ingest requests per input protocol and outcome (ok: at least one row accepted | rejected: every row quarantined | error: refused)',
    labelNames: ['protocol', 'outcome'] as const,
    registers: [registry],
  }),
  protocolRows: new Counter({
    name: 'protocol_rows_total',
    help: 'Ingest rows per input protocol and outcome (accepted | quarantined)',
    labelNames: ['protocol', 'outcome'] as const,
    registers: [registry],
  }),
  protocolLastSuccess: new Gauge({
    name: 'protocol_last_success_timestamp_seconds',
    help: 'Unix time of the last ingest per input protocol that accepted at least one row',
    labelNames: ['protocol'] as const,
    registers: [registry],
  }),
  httpRequestDuration: new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  detectDuration: new Histogram({
    name: 'detect_duration_seconds',
    help: 'Duration of one ensemble detection (features + all models + vote)',
    labelNames: ['mode'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  modelInferenceDuration: new Histogram({
    name: 'model_inference_duration_seconds',
    help: 'Duration of one model call inside the ensemble',
    labelNames: ['model'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  detectBatchWindows: new Histogram({
    name: 'detect_worker_batch_windows',
    help: "Windows scored in one model run by detect's scoring worker (requests that waited for it together)",
    buckets: [1, 2, 4, 8, 16],
    registers: [registry],
  }),
  eventStoreAppendDuration: new Histogram({
    name: 'eventstore_append_duration_seconds',
    help: 'Duration of one append to the event store',
    labelNames: ['adapter'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  }),
  eventsAppended: new Counter({
    name: 'eventstore_events_appended_total',
    help: 'Events appended to the event store, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  projectionLagEvents: new Gauge({
    name: 'projection_lag_events',
    help: 'Events in the global log not yet processed by a projection or the saga',
    labelNames: ['projection'] as const,
    registers: [registry],
  }),
  projectionLagSeconds: new Gauge({
    name: 'projection_lag_seconds',
    help: 'Age of the newest event a projection or the saga has processed, relative to now, when behind',
    labelNames: ['projection'] as const,
    registers: [registry],
  }),
  partitionsHeld: new Gauge({
    name: 'partitions_held',
    help: 'Leases (partitions of the saga and projections, or whole singleton projections) this process runs, per consumer',
    labelNames: ['consumer'] as const,
    registers: [registry],
  }),
  leaseRebalances: new Counter({
    name: 'lease_rebalances_total',
    help: 'Lease rounds that changed what this process runs: claim (took free leases), release (gave up a surplus to a new worker), lost (the lease backend or a fence took them away)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  backpressureLagSeconds: new Gauge({
    name: 'ingest_backpressure_lag_seconds',
    help: 'Age of the oldest event the slowest projection or the saga has not processed yet, as ingest backpressure sees it',
    registers: [registry],
  }),
  backpressureActive: new Gauge({
    name: 'ingest_backpressure_active',
    help: '1 while ingest answers 503 because the slowest subscriber is behind (INGEST_MAX_LAG_SECONDS), else 0',
    registers: [registry],
  }),
  backpressureRejections: new Counter({
    name: 'ingest_backpressure_rejections_total',
    help: 'Ingest requests answered 503 (overloaded) by backpressure',
    registers: [registry],
  }),
  anomaliesDetected: new Counter({
    name: 'anomalies_detected_total',
    help: 'AnomalyDetected events appended by the saga or analysis, by severity and component',
    labelNames: ['severity', 'component'] as const,
    registers: [registry],
  }),
  sagaWindows: new Counter({
    name: 'inference_saga_windows_total',
    help: 'Windows finished by the inference saga, by outcome (normal | anomaly | dropped_too_few_samples | score_error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  sagaLateSamples: new Counter({
    name: 'inference_saga_late_samples_total',
    help: 'Samples ignored by the inference saga because their window was already scored or dropped',
    registers: [registry],
  }),
  jobQueueDepth: new Gauge({
    name: 'job_queue_depth',
    help: 'Jobs waiting in a work queue',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
  jobRedeliveries: new Counter({
    name: 'job_redeliveries_total',
    help: 'Jobs delivered again after a failure or timeout',
    labelNames: ['queue'] as const,
    registers: [registry],
  }),
  cacheHits: new Counter({
    name: 'cache_hits_total',
    help: 'Cache hits by cache',
    labelNames: ['cache'] as const,
    registers: [registry],
  }),
  cacheMisses: new Counter({
    name: 'cache_misses_total',
    help: 'Cache misses by cache',
    labelNames: ['cache'] as const,
    registers: [registry],
  }),
};

// Both row outcomes exist from the first scrape: a feed that never had a row accepted reads 0, not "no data".
for (const protocol of ['json', 'csv']) for (const outcome of ['accepted', 'quarantined']) metrics.protocolRows.inc({ protocol, outcome }, 0);

type ScrapeHook = () => unknown;
const scrapeHooks = new Set<ScrapeHook>();

/**
 * Registers work to run right before each /metrics scrape (e.g. setting lag or queue-depth gauges
 * from a cheap query). Returns an unregister function; call it on shutdown.
 */
export function beforeScrape(hook: ScrapeHook): () => void {
  scrapeHooks.add(hook);
  return () => scrapeHooks.delete(hook);
}

/** The exposition text; scrape hooks that fail are skipped (the gauge keeps its last value). */
export async function scrapeMetrics(): Promise<string> {
  await Promise.allSettled([...scrapeHooks].map(async (hook) => hook()));
  return registry.metrics();
}
