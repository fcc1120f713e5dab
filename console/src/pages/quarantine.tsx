import { useEffect } from 'preact/hooks';
import { api } from '../api/client';
import { Pager, useCursorPages } from '../components/pager';
import { Time } from '../format';
import { navigate } from '../router';
import { Status, useApi } from '../use-api';

const PAGE = 50;

export function QuarantinePage({ query }: { query: URLSearchParams }) {
  const system = query.get('system_id') ?? '';
  const batch = query.get('batch_id') ?? '';
  // Keyset paging (the API pages by rows and by bytes).
  const pages = useCursorPages([system, batch]);
  const cursor = pages.cursor;
  useEffect(() => {
    document.title = 'Quarantine — equipment anomalies';
  }, []);
  const rows = useApi(
    () => api.GET('/api/v1/quarantine', { params: { query: { ...(system ? { system_id: system } : {}), ...(batch ? { batch_id: batch } : {}), limit: PAGE, ...(cursor ? { after: cursor } : {}) } } }),
    [system, batch, cursor],
  );
  const items = rows.data?.items ?? [];
  const set = (patch: Record<string, string>) => navigate('/quarantine', { system_id: system, batch_id: batch, ...patch }, true);
  return (
    <>
      <h1>Quarantined rows</h1>
      <form class="toolbar" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          system <input value={system} placeholder="all" onChange={(e) => set({ system_id: e.currentTarget.value.trim() })} />
        </label>
        <label>
          batch <input value={batch} placeholder="all" size={38} onChange={(e) => set({ batch_id: e.currentTarget.value.trim() })} />
        </label>
      </form>
      <Status loaded={rows} empty={rows.data?.items.length === 0} />
      {items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">quarantined</th>
                <th scope="col">system</th>
                <th scope="col">batch</th>
                <th scope="col">row</th>
                <th scope="col">reasons</th>
                <th scope="col">raw</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr>
                  <td>
                    <Time iso={r.quarantined_at} compact />
                  </td>
                  <td>{r.system_id ?? <span class="muted">–</span>}</td>
                  <td>
                    <button type="button" class="link" onClick={() => set({ batch_id: r.batch_id })}>
                      {r.batch_id.slice(0, 8)}
                    </button>
                  </td>
                  <td>{r.row}</td>
                  <td>
                    {r.reasons.map((x) => (
                      <div>
                        <code>{x.field}</code> {x.message}
                      </div>
                    ))}
                  </td>
                  <td>
                    <code class="raw">{JSON.stringify(r.raw)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pages={pages} next={rows.data?.next} />
    </>
  );
}
