import { useState } from 'preact/hooks';
import { apiKey, connection } from './api/client';
import { AnomalyPage } from './pages/anomaly';
import { ModelsPage } from './pages/models';
import { OverviewPage } from './pages/overview';
import { QuarantinePage } from './pages/quarantine';
import { SystemPage } from './pages/system';
import { href, useRoute } from './router';
import { useStore } from './store';
import { retries } from './use-api';

function KeyDialog() {
  const [key, setKey] = useState('');
  return (
    <form
      class="card key-dialog"
      aria-label="API key"
      onSubmit={(e) => {
        e.preventDefault();
        apiKey.set(key.trim());
        connection.set('ok');
        retries.set(retries.get() + 1);
      }}
    >
      <h2>API key</h2>
      <p>This service needs an API key with the <code>read</code> scope (<code>feedback</code> to record verdicts, <code>admin</code> to promote). It is kept for this browser tab only.</p>
      <input type="password" autoFocus autocomplete="off" aria-label="API key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      <button type="submit" disabled={!key.trim()}>
        Use key
      </button>
    </form>
  );
}

export function App() {
  const route = useRoute();
  const state = useStore(connection);
  const [page, ...rest] = route.path;
  let body;
  if (state === 'needs-key') body = <KeyDialog />;
  else if (page === 'system' && rest[0]) body = <SystemPage systemId={rest[0]} query={route.query} />;
  else if (page === 'anomaly' && rest[0]) body = <AnomalyPage anomalyId={rest[0]} query={route.query} />;
  else if (page === 'models') body = <ModelsPage />;
  else if (page === 'quarantine') body = <QuarantinePage query={route.query} />;
  else body = <OverviewPage />;
  const current = page ?? 'overview';
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Equipment anomalies
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={current === 'overview' || current === 'system' ? 'page' : undefined}>
            Overview
          </a>
          <a href={href('/models')} aria-current={current === 'models' ? 'page' : undefined}>
            Models
          </a>
          <a href={href('/quarantine')} aria-current={current === 'quarantine' ? 'page' : undefined}>
            Quarantine
          </a>
        </nav>
      </header>
      {state === 'unreachable' && (
        <div class="banner" role="alert">
          The API cannot be reached.{' '}
          <button
            onClick={() => {
              connection.set('ok');
              retries.set(retries.get() + 1);
            }}
          >
            Retry
          </button>
        </div>
      )}
      <main>{body}</main>
    </>
  );
}
