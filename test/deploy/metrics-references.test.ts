/**
 * The alert rules and the Grafana dashboard may only reference metrics the service really exports
 * (src/observability/metrics.ts, including prom-client's default process/nodejs metrics), so a
 * renamed metric cannot silently leave an alert that never fires or an empty panel.
 *
 *   NODE_OPTIONS=--experimental-vm-modules npx jest test/deploy
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registry } from '../../src/observability/metrics.js';
import {
  dashboardQueries,
  exportedSeriesNames,
  metricNames,
  ruleCount,
  ruleExpressions,
  unknownMetrics,
} from './promql.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const ALERTS = 'deploy/prometheus/alerts.yml';

/** A LogQL query: a stream selector `{…}` not attached to a metric name (PromQL writes `name{…}`). */
const isLogQl = (expr: string) => /(^|[\s(,])\{/.test(expr);
const DASHBOARD = 'deploy/grafana/dashboards/anomaly-platform.json';
const DATASOURCES = 'deploy/grafana/provisioning/datasources/datasources.yml';

async function exported(): Promise<Set<string>> {
  const metrics = await registry.getMetricsAsJSON();
  return exportedSeriesNames(metrics.map((m) => ({ name: m.name, type: String(m.type) })));
}

describe('PromQL metric-name extractor (test-side)', () => {
  it.each([
    ['readings_accepted_total', ['readings_accepted_total']],
    ['sum by (protocol) (rate(readings_accepted_total{protocol="csv"}[5m]))', ['readings_accepted_total']],
    [
      'histogram_quantile(0.9, sum by (le, mode) (rate(detect_duration_seconds_bucket[$__rate_interval]))) > 0.1',
      ['detect_duration_seconds_bucket'],
    ],
    [
      'sum(rate(a_total{x=~"5..",y!="{not}"}[5m])) / ignoring(x) group_left(y) sum without (z) (b_total offset 1h)',
      ['a_total', 'b_total'],
    ],
    ['absent(up{job="api"} == 1)', ['up']],
    ['time() - max by (protocol) (protocol_last_success_timestamp_seconds) > 900', ['protocol_last_success_timestamp_seconds']],
    ['3 * (sum(rate(invalid_rows_total[1h] offset 5m)) or vector(0)) and on() bool 1e3', ['invalid_rows_total']],
    ['label_replace(job_queue_depth, "q", "$1", "queue", "(.*)")', ['job_queue_depth']],
    ['max_over_time(projection_lag_seconds[1h:5m]) # comment mentions fake_metric', ['projection_lag_seconds']],
    ['{__name__="cache_hits_total", cache="model"}', ['cache_hits_total']],
    ['{__name__=~"cache_.*"}', ['__name__=~cache_.*']],
    ['sum by (le) (x_bucket) * on (instance) group_left y', ['x_bucket', 'y']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr).sort()).toEqual([...names].sort());
  });

  it('reads inline, quoted and block-scalar exprs from a rule file', () => {
    const yaml = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - alert: A',
      '        expr: up == 0',
      '      - alert: B',
      '        expr: "rate(b_total[5m]) > 1"',
      '      - record: job:c:rate5m',
      '        expr: |',
      '          sum by (job) (',
      '            rate(c_total[5m])',
      '          )',
      '        labels:',
      '          severity: x',
    ].join('\n');
    expect(ruleExpressions(yaml)).toEqual([
      { source: 'alert A', expr: 'up == 0' },
      { source: 'alert B', expr: 'rate(b_total[5m]) > 1' },
      { source: 'record job:c:rate5m', expr: 'sum by (job) (\nrate(c_total[5m])\n)' },
    ]);
    expect(ruleCount(yaml)).toBe(3);
  });
});

describe('metric names known to the service registry', () => {
  it('include the service metrics with histogram suffixes and the default process metrics', async () => {
    const known = await exported();
    for (const name of [
      'readings_accepted_total',
      'invalid_rows_total',
      'detect_duration_seconds_bucket',
      'detect_duration_seconds_sum',
      'detect_duration_seconds_count',
      'projection_lag_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(known).toContain(name);
    }
    // A histogram has no series under its bare name; a gauge has no _count.
    expect(known).not.toContain('detect_duration_seconds');
    expect(known).not.toContain('projection_lag_seconds_count');
  });
});

describe('deploy/ references only exported metrics', () => {
  it('reports an unknown metric (negative case: the check can fail)', async () => {
    const known = await exported();
    const bad = unknownMetrics(
      [
        { source: 'fake alert', expr: 'sum(rate(readings_accepted_total[5m])) / sum(rate(readings_rejected_total[5m])) > 0.1' },
        { source: 'fake panel', expr: 'histogram_quantile(0.9, rate(detect_duration_seconds[5m]))' },
        { source: 'fake gauge', expr: 'rate(projection_lag_events_count[5m])' },
        { source: 'fine', expr: 'absent(up{job="api"} == 1)' },
      ],
      known,
    );
    expect(bad.map((b) => `${b.source}: ${b.metric}`)).toEqual([
      'fake alert: readings_rejected_total',
      'fake panel: detect_duration_seconds',
      'fake gauge: projection_lag_events_count',
    ]);
  });

  it(`alert rules in ${ALERTS}`, async () => {
    const text = read(ALERTS);
    const exprs = ruleExpressions(text);
    // Every rule's expression was found (none escapes the check).
    expect(exprs.length).toBe(ruleCount(text));
    expect(exprs.length).toBeGreaterThanOrEqual(4);
    for (const { source, expr } of exprs) {
      expect({ source, names: metricNames(expr).length > 0 }).toEqual({ source, names: true });
    }
    expect(unknownMetrics(exprs, await exported())).toEqual([]);
  });

  it('the alerts the issue asks for exist', () => {
    const exprs = ruleExpressions(read(ALERTS));
    const uses = (metric: string) => exprs.some(({ expr }) => metricNames(expr).includes(metric));
    expect(uses('detect_duration_seconds_bucket')).toBe(true); // p90 > 100 ms
    expect(uses('projection_lag_seconds')).toBe(true); // projection (and saga) lag
    expect(uses('protocol_requests_total')).toBe(true); // ingest error rate
    expect(uses('invalid_rows_total')).toBe(true); // invalid rows surge
    expect(uses('up')).toBe(true); // api down
  });

  it(`dashboard ${DASHBOARD}`, async () => {
    const dashboard = JSON.parse(read(DASHBOARD)) as unknown;
    const queries = dashboardQueries(dashboard);
    // LogQL (the Logs row) is checked against the log shipper by test/deploy/log-references.test.ts
    const prom = queries.filter((q) => q.expr !== undefined && !isLogQl(q.expr)) as { source: string; expr: string; datasourceUid?: string }[];
    expect(prom.length).toBeGreaterThanOrEqual(10);
    // Every target is either PromQL or SQL; none is empty.
    for (const q of queries) {
      expect({ source: q.source, hasQuery: Boolean(q.expr?.trim() || q.rawSql?.trim()) }).toEqual({
        source: q.source,
        hasQuery: true,
      });
    }
    expect(unknownMetrics(prom, await exported())).toEqual([]);
  });

  it('the dashboard covers the panels the issue asks for', () => {
    const queries = dashboardQueries(JSON.parse(read(DASHBOARD)) as unknown);
    const names = new Set(queries.flatMap((q) => (q.expr && !isLogQl(q.expr) ? metricNames(q.expr) : [])));
    for (const metric of [
      'readings_accepted_total', // ingestion rate
      'invalid_rows_total', // invalid rows
      'detect_duration_seconds_bucket', // detect p90/p95
      'model_inference_duration_seconds_bucket', // inference time per model
      'projection_lag_seconds', // projection and saga lag
      'anomalies_detected_total', // anomalies by severity and component
    ]) {
      expect(names).toContain(metric);
    }
    const anomalyQueries = queries.filter((q) => q.expr?.includes('anomalies_detected_total')).map((q) => q.expr);
    expect(anomalyQueries.some((e) => /by \(severity\)/.test(e ?? ''))).toBe(true);
    expect(anomalyQueries.some((e) => /by \(component\)/.test(e ?? ''))).toBe(true);
  });

  it('dashboard targets use provisioned datasources (PromQL -> Prometheus, SQL -> TimescaleDB)', () => {
    const provisioned = new Map<string, string>();
    let uid: string | undefined;
    for (const line of read(DATASOURCES).split('\n')) {
      const u = /^\s*uid:\s*(\S+)/.exec(line);
      if (u) uid = u[1];
      const t = /^\s*type:\s*(\S+)/.exec(line);
      if (t && uid) provisioned.set(uid, t[1]);
    }
    expect([...provisioned.values()].sort()).toEqual(['grafana-postgresql-datasource', 'loki', 'prometheus']);
    for (const q of dashboardQueries(JSON.parse(read(DASHBOARD)) as unknown)) {
      const type = q.datasourceUid ? provisioned.get(q.datasourceUid) : undefined;
      const expected = q.expr === undefined ? 'grafana-postgresql-datasource' : isLogQl(q.expr) ? 'loki' : 'prometheus';
      expect({ source: q.source, type }).toEqual({ source: q.source, type: expected });
    }
  });
});

describe('docs/metrics.md queries', () => {
  it('the documented ratios are the ones promtool evaluates in alerts.test.yml (so "0, not no data" is tested)', () => {
    const docs = read('docs/metrics.md');
    const tested = read('deploy/prometheus/alerts.test.yml');
    const ratios = [...docs.matchAll(/`([^`]*(?:5\.\.|outcome="quarantined"\}\[5m\])[^`]*)`/g)].map((m) => m[1]!);
    expect(ratios.length).toBeGreaterThanOrEqual(2);
    expect(ratios.filter((q) => !tested.includes(`expr: '${q}'`))).toEqual([]);
    expect(unknownMetrics(ratios.map((expr) => ({ source: 'docs/metrics.md', expr })), new Set(['http_request_duration_seconds_count', 'protocol_rows_total']))).toEqual([]);
  });
});
