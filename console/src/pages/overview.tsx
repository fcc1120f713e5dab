import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import type { SystemHealth, SystemItem } from '../api/types';
import { COMPONENTS, pct, Severity, STALE_MS, Time } from '../format';
import { subscribeLive } from '../live';
import { href } from '../router';
import { Status, useApi } from '../use-api';

function Stale({ iso }: { iso: string }) {
  return Date.now() - Date.parse(iso) > STALE_MS ? (
    <span class="stale" title="No reading for more than 10 minutes">
      stale
    </span>
  ) : null;
}

function SystemCard({ system, tick }: { system: SystemItem; tick: number }) {
  const health = useApi<SystemHealth>(() => api.GET('/api/v1/systems/{id}/health', { params: { path: { id: system.system_id } } }), [system.system_id, tick]);
  const byEquipment = new Map((health.data?.equipment ?? []).map((e) => [e.equipment_id, e]));
  return (
    <section class="card system" aria-labelledby={`sys-${system.system_id}`}>
      <h2 id={`sys-${system.system_id}`}>
        <a href={href(`/system/${encodeURIComponent(system.system_id)}`)}>{system.system_id}</a>{' '}
        {health.data && <Severity value={health.data.status} />}
      </h2>
      <p class="meta">
        last reading <Time iso={system.last_reading_at} /> <Stale iso={system.last_reading_at} /> · <strong data-open={system.open_anomalies}>{system.open_anomalies}</strong> open anomalies
      </p>
      <Status loaded={health} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">equipment</th>
              {COMPONENTS.map((c) => (
                <th scope="col">{c}</th>
              ))}
              <th scope="col">last reading</th>
              <th scope="col">open</th>
            </tr>
          </thead>
          <tbody>
            {system.equipment.map((e) => {
              const h = byEquipment.get(e.equipment_id);
              return (
                <tr>
                  <th scope="row">{e.equipment_id}</th>
                  {COMPONENTS.map((c) => {
                    const s = h?.components[c];
                    return (
                      <td>
                        {s ? (
                          <span title={s.window_start ? `window ${new Date(s.window_start).toISOString()} · ${s.model_version ?? ''}` : undefined}>
                            <Severity value={s.status} />
                            {s.condition !== null && <span class="muted"> {s.condition}</span>}
                            {s.probability !== null && <span class="muted"> · {pct(s.probability, 0)}</span>}
                          </span>
                        ) : (
                          <span class="muted">–</span>
                        )}
                      </td>
                    );
                  })}
                  <td>
                    <Time iso={e.last_reading_at} compact /> <Stale iso={e.last_reading_at} />
                  </td>
                  <td>{e.open_anomalies}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function OverviewPage() {
  const systems = useApi(() => api.GET('/api/v1/systems'), []);
  useEffect(() => {
    document.title = 'Overview — equipment anomalies';
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Bursts of messages (a replay) cause one refetch.
    return subscribeLive(undefined, () => {
      clearTimeout(timer);
      timer = setTimeout(() => systems.reload(), 300);
    });
  }, []);
  const items = systems.data?.items ?? [];
  return (
    <>
      <h1>Systems</h1>
      <Status loaded={systems} empty={systems.data !== undefined && items.length === 0} />
      <div class="systems" data-testid="systems">
        {items.map((s) => (
          <SystemCard key={s.system_id} system={s} tick={s.open_anomalies + Date.parse(s.last_reading_at)} />
        ))}
      </div>
    </>
  );
}
