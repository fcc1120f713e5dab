import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api/client';
import type { AnomalyQuery, SystemHealth } from '../api/types';
import { Chart, stackedBars } from '../components/chart';
import { Pager, useCursorPages } from '../components/pager';
import { Swimlane } from '../components/swimlane';
import { COMPONENT_COLOR, COMPONENTS, pct, Severity, SEVERITIES, SEVERITY_COLOR, Time } from '../format';
import { subscribeLive } from '../live';
import { href, navigate } from '../router';
import { Status, useApi } from '../use-api';

const RANGES = { '6h': 6, '24h': 24, '7d': 24 * 7, '30d': 24 * 30 } as const;
type RangeKey = keyof typeof RANGES;
const HOUR = 3_600_000;

function HealthPanel({ health }: { health: SystemHealth }) {
  return (
    <div class="health-grid">
      {health.equipment.map((e) => (
        <div class="card small">
          <h3>
            {e.equipment_id} <Severity value={e.status} />
          </h3>
          <ul class="plain">
            {Object.entries(e.components).map(([c, s]) => (
              <li>
                {c}: <Severity value={s.status} /> {s.probability !== null && <span class="muted">{pct(s.probability, 0)}</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

export function SystemPage({ systemId, query }: { systemId: string; query: URLSearchParams }) {
  const q = Object.fromEntries(query.entries()) as Record<string, string | undefined>;
  const set = (patch: Record<string, string | undefined>) => navigate(`/system/${encodeURIComponent(systemId)}`, { ...q, ...patch }, true);
  const [live, setLive] = useState(0);
  useEffect(() => {
    document.title = `${systemId} — equipment anomalies`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return subscribeLive(systemId, () => {
      clearTimeout(timer);
      timer = setTimeout(() => setLive((n) => n + 1), 300);
    });
  }, [systemId]);

  const systems = useApi(() => api.GET('/api/v1/systems'), [live]);
  const system = systems.data?.items.find((s) => s.system_id === systemId);
  const models = useApi(() => api.GET('/api/v1/models'), []);

  const bucket = (q.bucket === '1d' ? '1d' : '1h') as '1h' | '1d';
  const range = (q.range && q.range in RANGES ? q.range : '24h') as RangeKey;
  // Default window: ending at the system's last reading (data may be historic), not at the wall clock.
  const end = q.to ?? (system ? new Date(Math.ceil((Date.parse(system.last_reading_at) + 1) / HOUR) * HOUR).toISOString() : undefined);
  const from = q.from ?? (end ? new Date(Date.parse(end) - RANGES[range] * HOUR).toISOString() : undefined);
  const version = q.model_version;
  const trendParams = { from, to: end, bucket, model_version: version };

  const trend = useApi(
    () => (from && end ? api.GET('/api/v1/systems/{id}/anomaly-trend', { params: { path: { id: systemId }, query: trendParams } }) : new Promise<never>(() => {})),
    [systemId, from, end, bucket, version, live],
  );
  const lane = useApi(
    () => (from && end ? api.GET('/api/v1/systems/{id}/anomaly-swimlane', { params: { path: { id: systemId }, query: trendParams } }) : new Promise<never>(() => {})),
    [systemId, from, end, bucket, version, live],
  );
  const health = useApi<SystemHealth>(() => api.GET('/api/v1/systems/{id}/health', { params: { path: { id: systemId } } }), [systemId, live]);

  // Table: the selected swimlane cell narrows the range and the equipment.
  const tableQuery: AnomalyQuery = {
    from: q.cell_from ?? from,
    to: q.cell_to ?? end,
    equipment_id: q.equipment,
    severity: q.severity as AnomalyQuery['severity'],
    component: q.component as AnomalyQuery['component'],
    verdict: q.verdict as AnomalyQuery['verdict'],
    model_version: version,
    limit: Math.min(200, Math.max(1, Number(q.limit ?? 25) || 25)),
  };
  const filterKey = JSON.stringify(tableQuery);
  const pages = useCursorPages([filterKey]);
  const cursor = pages.cursor;
  const anomalies = useApi(() => (from && end ? api.GET('/api/v1/systems/{id}/anomalies', { params: { path: { id: systemId }, query: { ...tableQuery, cursor } } }) : new Promise<never>(() => {})), [filterKey, cursor, live]);

  const view = q.view === 'component' ? 'component' : 'severity';
  const chart = useMemo(() => {
    if (!trend.data) return undefined;
    const x = trend.data.buckets.map((b) => Date.parse(b.bucket) / 1000);
    const keys = view === 'severity' ? [...SEVERITIES] : [...COMPONENTS, 'unattributed'];
    const colors = view === 'severity' ? SEVERITY_COLOR : COMPONENT_COLOR;
    return stackedBars(
      x,
      keys.map((k) => ({ label: k, color: colors[k]!, values: trend.data!.buckets.map((b) => (view === 'severity' ? b.by_severity[k] : b.by_component[k]) ?? 0) })),
    );
  }, [trend.data, view]);

  const toLocalInput = (iso: string | undefined) => (iso ? new Date(Date.parse(iso) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');
  const fromLocalInput = (v: string) => (v ? new Date(v).toISOString() : undefined);

  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Systems</a> / <span>{systemId}</span>
      </nav>
      <h1>
        {systemId} {health.data && <Severity value={health.data.status} />}
      </h1>
      {systems.data && !system && <p class="error">No system {systemId}.</p>}
      <form class="toolbar" aria-label="Range" onSubmit={(e) => e.preventDefault()}>
        <label>
          range{' '}
          <select value={q.from ? 'custom' : range} onChange={(e) => set({ range: e.currentTarget.value, from: undefined, to: undefined, cell_from: undefined, cell_to: undefined, equipment: undefined })}>
            {Object.keys(RANGES).map((r) => (
              <option value={r}>last {r}</option>
            ))}
            {q.from && <option value="custom">custom</option>}
          </select>
        </label>
        <label>
          from <input type="datetime-local" value={toLocalInput(from)} onChange={(e) => set({ from: fromLocalInput(e.currentTarget.value), to: end })} />
        </label>
        <label>
          to <input type="datetime-local" value={toLocalInput(end)} onChange={(e) => set({ to: fromLocalInput(e.currentTarget.value), from })} />
        </label>
        <label>
          bucket{' '}
          <select value={bucket} onChange={(e) => set({ bucket: e.currentTarget.value })}>
            <option value="1h">1 hour</option>
            <option value="1d">1 day</option>
          </select>
        </label>
        <label>
          model version{' '}
          <select value={version ?? ''} onChange={(e) => set({ model_version: e.currentTarget.value || undefined })}>
            <option value="">{models.data ? `active (${models.data.active})` : 'active'}</option>
            {models.data?.items.map((m) => (
              <option value={m.version}>{m.version}</option>
            ))}
          </select>
        </label>
      </form>

      <section aria-labelledby="lane-h">
        <h2 id="lane-h">Swimlane</h2>
        <Status loaded={lane} />
        {lane.data && (
          <Swimlane
            lane={lane.data}
            selected={q.equipment && q.cell_from ? { equipment: q.equipment, bucket: q.cell_from } : undefined}
            onSelect={(c) => set(c ? { equipment: c.equipment, cell_from: c.bucket, cell_to: c.to } : { equipment: undefined, cell_from: undefined, cell_to: undefined })}
          />
        )}
      </section>

      <section aria-labelledby="trend-h">
        <h2 id="trend-h">
          Trend{' '}
          <span class="seg" role="group" aria-label="Stack by">
            <button aria-pressed={view === 'severity'} onClick={() => set({ view: 'severity' })}>
              by severity
            </button>
            <button aria-pressed={view === 'component'} onClick={() => set({ view: 'component' })}>
              by component
            </button>
          </span>
        </h2>
        <Status loaded={trend} />
        {chart && <Chart label={`Anomalies per ${bucket} bucket by ${view}`} options={chart.options} data={chart.data} height={200} />}
      </section>

      <div class="two-col">
        <section aria-labelledby="table-h">
          <h2 id="table-h">Anomalies</h2>
          <form class="toolbar" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              severity{' '}
              <select name="severity" value={q.severity ?? ''} onChange={(e) => set({ severity: e.currentTarget.value || undefined })}>
                <option value="">all</option>
                {SEVERITIES.map((s) => (
                  <option value={s}>{s}</option>
                ))}
                <option value="high,critical">high + critical</option>
              </select>
            </label>
            <label>
              component{' '}
              <select name="component" value={q.component ?? ''} onChange={(e) => set({ component: e.currentTarget.value || undefined })}>
                <option value="">all</option>
                {COMPONENTS.map((c) => (
                  <option value={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              verdict{' '}
              <select name="verdict" value={q.verdict ?? ''} onChange={(e) => set({ verdict: e.currentTarget.value || undefined })}>
                <option value="">all</option>
                <option value="none">none yet</option>
                <option value="confirmed">confirmed</option>
                <option value="false_positive">false positive</option>
              </select>
            </label>
            {q.equipment && (
              <button type="button" class="chip" onClick={() => set({ equipment: undefined, cell_from: undefined, cell_to: undefined })}>
                {q.equipment}
                {q.cell_from ? ` @ ${new Date(q.cell_from).toLocaleString()}` : ''} ✕
              </button>
            )}
          </form>
          <Status loaded={anomalies} empty={anomalies.data?.items.length === 0} />
          {anomalies.data && anomalies.data.items.length > 0 && (
            <div class="table-wrap">
              <table data-testid="anomaly-table">
                <thead>
                  <tr>
                    <th scope="col">window</th>
                    <th scope="col">equipment</th>
                    <th scope="col">severity</th>
                    <th scope="col">component</th>
                    <th scope="col">confidence</th>
                    <th scope="col">verdict</th>
                    <th scope="col">model</th>
                  </tr>
                </thead>
                <tbody>
                  {anomalies.data.items.map((a) => (
                    <tr data-anomaly={a.event_id}>
                      <td>
                        <a href={href(`/anomaly/${a.event_id}`, { system: a.system_id, equipment: a.equipment_id, from: a.window_start, to: a.window_end })}>
                          <Time iso={a.window_start} />
                        </a>
                      </td>
                      <td>{a.equipment_id}</td>
                      <td>
                        <Severity value={a.severity} />
                      </td>
                      <td>{a.affected_component ?? <span class="muted">unattributed</span>}</td>
                      <td>{pct(a.confidence, 0)}</td>
                      <td>{a.feedback ? a.feedback.replace('_', ' ') : <span class="muted">–</span>}</td>
                      <td class="muted">{a.model_version}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager pages={pages} next={anomalies.data?.next_cursor} />
        </section>
        <section aria-labelledby="health-h">
          <h2 id="health-h">Health</h2>
          <Status loaded={health} />
          {health.data && <HealthPanel health={health.data} />}
          {health.data && (
            <p class="muted">
              as of <Time iso={health.data.generated_at} />
            </p>
          )}
        </section>
      </div>
    </>
  );
}
