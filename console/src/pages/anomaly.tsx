import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { api, problemText } from '../api/client';
import type { AnomalyDetail, SensorCurves, Verdict } from '../api/types';
import { Chart } from '../components/chart';
import { pct, Severity, Time } from '../format';
import { subscribeLive } from '../live';
import { href } from '../router';
import { Status, useApi } from '../use-api';

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Minutes of readings shown before and after the window. */
const AROUND_MS = 3 * 60_000;

/** Buckets asked of the server per chart: about the widest a sensor chart gets, in device pixels. */
function chartPoints(): number {
  return Math.max(100, Math.min(2000, Math.round(Math.min(window.innerWidth, 600) * (window.devicePixelRatio || 1))));
}

function sensorCharts(curves: SensorCurves, window: { from: number; to: number }) {
  const x = curves.t.map((t) => t / 1000);
  // Shades the anomaly's window behind the curve.
  const shade: uPlot.Plugin = {
    hooks: {
      drawClear: (u) => {
        const l = u.valToPos(window.from / 1000, 'x', true);
        const r = u.valToPos(window.to / 1000, 'x', true);
        u.ctx.save();
        u.ctx.fillStyle = 'rgba(214, 69, 69, 0.15)';
        u.ctx.fillRect(l, u.bbox.top, r - l, u.bbox.height);
        u.ctx.restore();
      },
    },
  };
  // The server sends each bucket's lowest and highest value: drawn as two lines with the band between them, so a
  // spike inside a bucket stays visible. Where every bucket holds one sample (min = max) one line is drawn: the
  // same picture for a third of the drawing, which 17 charts at once feel.
  const line = (label: string) => ({ label, stroke: '#2b7bb9', width: 1.25, points: { show: false }, spanGaps: true });
  return curves.sensors.map((s) => {
    const single = s.min.every((v, i) => v === s.max[i]);
    return {
      sensor: s.sensor_id,
      unit: s.unit,
      data: (single ? [x, s.max] : [x, s.max, s.min]) as uPlot.AlignedData,
      options: {
        plugins: [shade],
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        bands: single ? [] : [{ series: [1, 2] as [number, number], fill: 'rgba(43, 123, 185, 0.25)' }],
        axes: [
          {
            stroke: 'currentColor',
            grid: { show: false },
            ticks: { show: false },
            size: 22,
            font: '10px system-ui',
            values: (_u: uPlot, splits: number[]) => splits.map((t) => clock.format(new Date(t * 1000))),
          },
          { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' }, size: 44, font: '10px system-ui' },
        ],
        series: single ? [{}, line(s.sensor_id)] : [{}, line(`${s.sensor_id} max`), line(`${s.sensor_id} min`)],
      } satisfies Omit<uPlot.Options, 'width' | 'height'>,
    };
  });
}

function FeedbackForm({ anomaly, onRecorded }: { anomaly: AnomalyDetail; onRecorded(): void }) {
  const [note, setNote] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const send = async (verdict: Verdict) => {
    setBusy(true);
    const { data, error, response } = await api.POST('/api/v1/anomalies/{id}/feedback', {
      params: { path: { id: anomaly.event_id } },
      body: { verdict, ...(note.trim() ? { note: note.trim() } : {}) },
    });
    setBusy(false);
    if (data) {
      setMessage({ ok: true, text: data.recorded ? `Recorded: ${verdict.replace('_', ' ')}.` : `You had already given this verdict.` });
      setNote('');
      onRecorded();
    } else setMessage({ ok: false, text: response.status === 403 ? 'Your key lacks the feedback scope.' : problemText(error) });
  };
  return (
    <form class="feedback" aria-label="Feedback" onSubmit={(e) => e.preventDefault()}>
      <label>
        note (optional)
        <textarea maxLength={2000} rows={2} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <div class="buttons">
        <button type="button" disabled={busy} onClick={() => send('confirmed')}>
          Confirm anomaly
        </button>
        <button type="button" disabled={busy} onClick={() => send('false_positive')}>
          False positive
        </button>
      </div>
      {message && (
        <p role="status" class={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
    </form>
  );
}

export function AnomalyPage({ anomalyId, query }: { anomalyId: string; query: URLSearchParams }) {
  const detail = useApi(() => api.GET('/api/v1/anomalies/{id}', { params: { path: { id: anomalyId } } }), [anomalyId]);
  const a = detail.data;
  useEffect(() => {
    document.title = `Anomaly ${anomalyId.slice(0, 8)} — equipment anomalies`;
  }, [anomalyId]);
  useEffect(() => {
    if (!a) return;
    // Verdicts given elsewhere appear here too.
    return subscribeLive(a.system_id, (m) => m.event === 'feedback' && m.data.anomaly_id === anomalyId && detail.reload());
  }, [a?.system_id]);
  // A link from the anomaly table carries the window, so the readings load alongside the detail, not after it.
  const hinted = query.get('system') && query.get('equipment') && query.get('from') && query.get('to');
  const where = a
    ? { system: a.system_id, equipment: a.equipment_id, from: a.window_start, to: a.window_end }
    : hinted
      ? { system: query.get('system')!, equipment: query.get('equipment')!, from: query.get('from')!, to: query.get('to')! }
      : undefined;
  const window = where ? { from: Date.parse(where.from), to: Date.parse(where.to) } : undefined;
  // One request for every sensor of the equipment, downsampled by the server to the charts' width.
  const curves = useApi(
    () =>
      where && window
        ? api.GET('/api/v1/systems/{id}/sensor-curves', {
            params: {
              path: { id: where.system },
              query: { equipment_id: where.equipment, from: new Date(window.from - AROUND_MS).toISOString(), to: new Date(window.to + AROUND_MS).toISOString(), points: chartPoints() },
            },
          })
        : new Promise<never>(() => {}),
    [where?.system, where?.equipment, where?.from],
  );
  const charts = useMemo(() => (curves.data && window ? sensorCharts(curves.data, window) : []), [curves.data]);
  // bench:ui and the browser tests wait for this mark: every sensor chart drawn (counted per set of charts).
  const drawn = useRef({ charts, count: 0 });
  const onDrawn = () => {
    if (drawn.current.charts !== charts) drawn.current = { charts, count: 0 };
    if (++drawn.current.count === charts.length) performance.mark('charts-drawn');
  };
  if (!a) return <Status loaded={detail} />;
  return (
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Systems</a> / <a href={href(`/system/${encodeURIComponent(a.system_id)}`)}>{a.system_id}</a> / <span>anomaly</span>
      </nav>
      <h1>
        {a.equipment_id} <Severity value={a.severity} /> <span class="muted">{a.affected_component ?? 'unattributed'}</span>
      </h1>
      <p class="meta">
        window <Time iso={a.window_start} /> – <Time iso={a.window_end} /> · confidence {pct(a.confidence, 0)} · score {a.score.toFixed(3)} · model {a.model_version} ·
        verdict <strong data-testid="verdict">{a.feedback ? a.feedback.replace('_', ' ') : 'none yet'}</strong>
      </p>
      <div class="two-col">
        <section aria-labelledby="comp-h">
          <h2 id="comp-h">Components</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">component</th>
                <th scope="col">condition</th>
                <th scope="col">probability</th>
                <th scope="col">degraded</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(a.components).map(([c, r]) => (
                <tr>
                  <th scope="row">{c}</th>
                  <td>{r.condition}</td>
                  <td>{pct(r.probability)}</td>
                  <td>{r.degraded ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Votes</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">model</th>
                <th scope="col">weight</th>
                <th scope="col">vote</th>
                <th scope="col">score</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(a.votes).map(([m, v]) => (
                <tr>
                  <th scope="row">{m}</th>
                  <td>{v.weight}</td>
                  <td>{v.anomaly ? 'anomaly' : 'normal'}</td>
                  <td>{v.score.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section aria-labelledby="audit-h" data-testid="audit">
          <h2 id="audit-h">Audit trail</h2>
          <dl class="audit">
            <dt>anomaly event</dt>
            <dd>
              <code>{a.event_id}</code> ({a.source}, recorded <Time iso={a.recorded_at} />)
            </dd>
            <dt>correlation id</dt>
            <dd>
              <code>{a.correlation_id ?? '–'}</code>
            </dd>
            <dt>source events</dt>
            <dd>
              {(a.source_event_ids ?? []).map((id) => (
                <code class="block">{id}</code>
              ))}
            </dd>
            <dt>feedback</dt>
            <dd>
              {a.feedback_history.length === 0 && <span class="muted">none yet</span>}
              <ol class="history">
                {a.feedback_history.map((f) => (
                  <li data-verdict={f.verdict}>
                    <Time iso={f.recorded_at} compact /> <strong>{f.actor}</strong>: {f.verdict.replace('_', ' ')}
                    {f.note && <q>{f.note}</q>}
                  </li>
                ))}
              </ol>
            </dd>
          </dl>
          <FeedbackForm anomaly={a} onRecorded={detail.reload} />
        </section>
      </div>
      <section aria-labelledby="curves-h">
        <h2 id="curves-h">Sensor curves</h2>
        <p class="muted">The window is shaded; {AROUND_MS / 60_000} minutes around it.</p>
        <Status loaded={curves} empty={curves.data?.sensors.length === 0} />
        <div class="sensors" data-testid="sensor-charts">
          {charts.map((c) => (
            <figure class="sensor">
              <figcaption>
                {c.sensor} {c.unit && <span class="muted">{c.unit}</span>}
              </figcaption>
              <Chart label={`${c.sensor} around the window`} options={c.options} data={c.data} height={120} onDrawn={onDrawn} />
            </figure>
          ))}
        </div>
      </section>
    </>
  );
}
