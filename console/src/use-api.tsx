import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { problemText } from './api/client';
import { createStore, useStore } from './store';

/** Bumped by the banner's Retry and after a key is entered: every page refetches. */
export const retries = createStore(0);

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

/**
 * Runs an openapi-fetch call and keeps its result; re-runs when `deps` change, on reload() and on Retry.
 * A newer call wins over a slower older one. The request is sent while the component renders, not from an effect:
 * effects run after the browser's next paint, which delayed every request by a frame or more (bench:ui).
 */
export function useApi<T>(call: () => Promise<{ data?: T; error?: unknown }>, deps: unknown[]): Loaded<T> {
  const retry = useStore(retries);
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const pending = useMemo(call, [...deps, retry, tick]);
  useEffect(() => {
    let current = true;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    pending.then(
      (r) => {
        if (!current) return;
        setState(r.error !== undefined || r.data === undefined ? { data: undefined, error: problemText(r.error), loading: false } : { data: r.data, loading: false });
      },
      (e: unknown) => current && setState({ data: undefined, error: e instanceof Error ? e.message : String(e), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [pending]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Loading / error / empty states in one place. */
export function Status({ loaded, empty }: { loaded: Loaded<unknown>; empty?: boolean }) {
  if (loaded.error) return <p class="error" role="alert">{loaded.error}</p>;
  if (loaded.loading && loaded.data === undefined) return <p class="muted" aria-busy="true">Loading…</p>;
  if (empty) return <p class="muted">Nothing here yet.</p>;
  return null;
}
