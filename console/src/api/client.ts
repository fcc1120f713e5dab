import createClient, { type Middleware } from 'openapi-fetch';
import { createStore } from '../store';
import type { paths } from './schema';

const KEY = 'anomaly-console.api-key';

/** The API key, asked once per browser session (sessionStorage); never needed with AUTH=off. */
export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export type Connection = 'ok' | 'unreachable' | 'needs-key';
export const connection = createStore<Connection>('ok');

const auth: Middleware = {
  onRequest({ request }) {
    const key = apiKey.get();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) connection.set('needs-key');
    else if (response.status === 502 || response.status === 504) connection.set('unreachable');
    else if (connection.get() === 'unreachable') connection.set('ok');
    return response;
  },
  onError() {
    connection.set('unreachable');
  },
};

/** Typed from the committed openapi.json (npm run openapi regenerates schema.d.ts): a contract change fails the build. */
export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

/** A problem+json body's words for a banner or a form. */
export function problemText(error: unknown): string {
  if (!error || typeof error !== 'object') return String(error ?? 'request failed');
  const p = error as { title?: string; detail?: string; errors?: { field: string; message: string }[] };
  const fields = p.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
  return [p.title, p.detail, fields].filter(Boolean).join(' — ') || 'request failed';
}
