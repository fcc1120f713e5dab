import { useLayoutEffect, useState } from 'preact/hooks';

/** A value components can watch (the connection state); small enough not to need a state library. */
export interface Store<T> {
  get(): T;
  set(value: T): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next) {
      if (next === value) return;
      value = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  const [, render] = useState(0);
  // Subscribed in a layout effect, which runs before anything else can: requests are sent while rendering
  // (useApi), and a plain effect waits for the next paint, so a quick 401 could change the store unseen.
  useLayoutEffect(() => store.subscribe(() => render((n) => n + 1)), [store]);
  return store.get();
}
