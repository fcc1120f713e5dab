import { useEffect, useState } from 'preact/hooks';
import { api, problemText } from '../api/client';
import type { ModelComparison } from '../api/types';
import { COMPONENTS, pct } from '../format';
import { Status, useApi } from '../use-api';

function Compare({ versions, active }: { versions: string[]; active: string }) {
  const [base, setBase] = useState(active);
  const [candidate, setCandidate] = useState(versions.find((v) => v !== active) ?? active);
  const [system, setSystem] = useState('');
  const [result, setResult] = useState<{ data?: ModelComparison; error?: string }>();
  const run = async () => {
    const { data, error } = await api.GET('/api/v1/models/compare', { params: { query: { base, candidate, ...(system.trim() ? { system_id: system.trim() } : {}) } } });
    setResult(data ? { data } : { error: problemText(error) });
  };
  return (
    <section aria-labelledby="cmp-h">
      <h2 id="cmp-h">Compare two versions</h2>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label>
          base{' '}
          <select value={base} onChange={(e) => setBase(e.currentTarget.value)}>
            {versions.map((v) => (
              <option>{v}</option>
            ))}
          </select>
        </label>
        <label>
          candidate{' '}
          <select value={candidate} onChange={(e) => setCandidate(e.currentTarget.value)}>
            {versions.map((v) => (
              <option>{v}</option>
            ))}
          </select>
        </label>
        <label>
          system <input value={system} placeholder="all" onInput={(e) => setSystem(e.currentTarget.value)} />
        </label>
        <button type="submit">Compare</button>
      </form>
      {result?.error && <p class="error">{result.error}</p>}
      {result?.data && (
        <div class="table-wrap">
          <p class="muted">
            {result.data.windows} windows (base from its {result.data.sources.base} results, candidate from its {result.data.sources.candidate} results)
          </p>
          <table data-testid="comparison">
            <thead>
              <tr>
                <th scope="col">scope</th>
                <th scope="col">flagged by base</th>
                <th scope="col">flagged by candidate</th>
                <th scope="col">both</th>
                <th scope="col">only base</th>
                <th scope="col">only candidate</th>
              </tr>
            </thead>
            <tbody>
              {result.data.scopes.map((s) => (
                <tr>
                  <th scope="row">{s.scope}</th>
                  <td>{s.flagged_by_base}</td>
                  <td>{s.flagged_by_candidate}</td>
                  <td>{s.both}</td>
                  <td>{s.only_base}</td>
                  <td>{s.only_candidate}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ModelsPage() {
  const models = useApi(() => api.GET('/api/v1/models'), []);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  useEffect(() => {
    document.title = 'Models — equipment anomalies';
  }, []);
  const promote = async (version: string) => {
    const { data, error, response } = await api.POST('/api/v1/models/{version}/promote', { params: { path: { version } }, body: {} });
    if (data) {
      setMessage({ ok: true, text: data.recorded ? `Promoted ${version}.` : `${version} already is the active version.` });
      models.reload();
    } else setMessage({ ok: false, text: response.status === 403 ? 'Promoting needs a key with the admin scope.' : problemText(error) });
  };
  const data = models.data;
  return (
    <>
      <h1>Model versions</h1>
      <Status loaded={models} />
      {message && (
        <p role="status" class={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
      {data && (
        <>
          <p>
            Active: <strong data-testid="active-version">{data.active}</strong> <span class="muted">(manifest default {data.manifest_default})</span>
          </p>
          <div class="versions">
            {data.items.map((v) => (
              <section class={`card${v.active ? ' active' : ''}`} data-version={v.version} aria-labelledby={`v-${v.version}`}>
                <h2 id={`v-${v.version}`}>
                  {v.version} {v.active && <span class="badge">active</span>}
                </h2>
                <p class="muted">
                  {v.profile} · models {v.models.map((m) => `${m.name} ${m.weight}`).join(', ')}
                  {v.created ? ` · created ${v.created}` : ''}
                </p>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">component</th>
                        <th scope="col">CV FPR</th>
                        <th scope="col">CV recall</th>
                        <th scope="col">macro-F1</th>
                        <th scope="col">reviewed</th>
                        <th scope="col">false-positive rate (feedback)</th>
                      </tr>
                    </thead>
                    <tbody>
                      {[...COMPONENTS, 'unattributed'].map((c) => {
                        const m = v.metrics?.[c];
                        const f = v.feedback[c];
                        if (!m && !f) return null;
                        return (
                          <tr data-component={c}>
                            <th scope="row">{c}</th>
                            <td>{pct(m?.fpr)}</td>
                            <td>{pct(m?.recall)}</td>
                            <td>{m?.macro_f1?.toFixed(3) ?? '–'}</td>
                            <td>{f?.reviewed ?? 0}</td>
                            <td data-testid="feedback-fpr">{pct(f?.false_positive_rate)}</td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </div>
                {!v.active && (
                  <button type="button" onClick={() => void promote(v.version)}>
                    Promote {v.version}
                  </button>
                )}
              </section>
            ))}
          </div>
          <Compare versions={data.items.map((v) => v.version)} active={data.active} />
        </>
      )}
    </>
  );
}
