import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import { componentNames, severities } from '../../events/anomaly-detected.event.js';
import { DATABASE } from '../../infrastructure/tokens.js';
import '../../read-side/read-side.tables.js';
import { GetAnomalyTrendQuery, type AnomalyTrend, type TrendBucket } from './get-anomaly-trend.query.js';
import { requireKnownSystem } from '../known-system.js';

const STEP = { '1h': '1 hour', '1d': '1 day' } as const;
/** Anomalies without an attributed component (e.g. adaptive thresholds only). */
export const UNATTRIBUTED = 'unattributed';

@QueryHandler(GetAnomalyTrendQuery)
export class GetAnomalyTrendHandler implements IQueryHandler<GetAnomalyTrendQuery, AnomalyTrend> {
  private timescale: Promise<boolean> | undefined;

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async execute({ systemId, params }: GetAnomalyTrendQuery): Promise<AnomalyTrend> {
    const db = this.database.db;
    const version = params.model_version ?? null;
    let source = params.source ?? 'live';
    if (!params.source && version) {
      // A version asked for by name: its re-projection when one exists, else what production recorded with it.
      // (Checked on the windows, not the rollup: a re-projection that flagged nothing still exists.)
      const re = await sql<{ found: boolean }>`select exists (select 1 from anomaly_trend_windows
        where system_id = ${systemId} and model_version = ${version} and source = 'reprojection') as found`.execute(db);
      if (re.rows[0]?.found) source = 'reprojection';
    }
    this.timescale ??= this.database.extensions().then((e) => e.timescaledb);
    const timescale = await this.timescale;
    const step = STEP[params.bucket];
    const relation = timescale
      ? sql.table(params.bucket === '1h' ? 'anomaly_trend_hourly_cagg' : 'anomaly_trend_daily_cagg')
      : sql.table('anomaly_trend_hourly');
    const versionFilter = version === null ? sql`` : sql`and model_version = ${version}`;
    // Buckets align to UTC (origin 2000-01-01); the rollup is hourly, so a day is the sum of its 24 hours.
    const { rows } = await sql<{ bucket: Date; severity: string | null; component: string | null; n: number | null }>`
      with series as (
        select generate_series(date_bin(${step}::interval, ${params.from}::timestamptz, timestamptz '2000-01-01'),
                               ${params.to}::timestamptz - interval '1 microsecond', ${step}::interval) as bucket
      ), agg as (
        select date_bin(${step}::interval, bucket, timestamptz '2000-01-01') as bucket, severity, component, sum(anomalies)::int as n
        from ${relation}
        where system_id = ${systemId} and source = ${source} ${versionFilter}
          and bucket >= date_bin(${step}::interval, ${params.from}::timestamptz, timestamptz '2000-01-01') and bucket < ${params.to}::timestamptz
        group by 1, 2, 3
      )
      select s.bucket, a.severity, a.component, a.n from series s left join agg a on a.bucket = s.bucket
      order by s.bucket, a.severity, a.component`.execute(db);

    // zero-filled buckets cannot tell a quiet system from an unknown one (known-system.ts)
    if (!rows.some((r) => r.n !== null)) await requireKnownSystem(this.database, systemId);
    const buckets: TrendBucket[] = [];
    let current: TrendBucket | undefined;
    for (const r of rows) {
      const iso = new Date(r.bucket).toISOString();
      if (current?.bucket !== iso) {
        current = {
          bucket: iso,
          total: 0,
          by_severity: Object.fromEntries(severities.filter((s) => s !== 'none').map((s) => [s, 0])),
          by_component: Object.fromEntries([...componentNames, UNATTRIBUTED].map((c) => [c, 0])),
        };
        buckets.push(current);
      }
      if (r.n === null || r.severity === null) continue;
      current.total += r.n;
      current.by_severity[r.severity] = (current.by_severity[r.severity] ?? 0) + r.n;
      const c = r.component || UNATTRIBUTED;
      current.by_component[c] = (current.by_component[c] ?? 0) + r.n;
    }
    return {
      system_id: systemId,
      bucket: params.bucket,
      from: params.from.toISOString(),
      to: params.to.toISOString(),
      model_version: version,
      source,
      backend: timescale ? 'timescaledb' : 'rollup',
      buckets,
    };
  }
}
