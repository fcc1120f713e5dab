import { apiKey } from './api/client';

export interface LiveMessage {
  id: string;
  event: 'anomaly' | 'health' | 'feedback';
  data: { system_id: string; anomaly_id?: string; severity?: string; verdict?: string };
}

/**
 * GET /api/v1/stream read with fetch (EventSource cannot send the Authorization header). On a dropped
 * connection it reconnects with Last-Event-ID = the last id seen, so no message is missed. Returns a stop function.
 */
export function subscribeLive(systemId: string | undefined, onMessage: (m: LiveMessage) => void): () => void {
  let stopped = false;
  let lastId: string | undefined;
  let controller: AbortController | undefined;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers: Record<string, string> = {};
        const key = apiKey.get();
        if (key) headers.authorization = `Bearer ${key}`;
        if (lastId) headers['last-event-id'] = lastId;
        const res = await fetch(`/api/v1/stream${systemId ? `?system_id=${encodeURIComponent(systemId)}` : ''}`, { headers, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id: string | undefined;
            let event: string | undefined;
            let data: string | undefined;
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (id) lastId = id;
            if (event && data) onMessage({ id: id ?? '', event: event as LiveMessage['event'], data: JSON.parse(data) });
          }
        }
      } catch {
        // dropped or refused: retry below
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
