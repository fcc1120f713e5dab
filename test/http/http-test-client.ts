import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

/**
 * Real HTTP against an app listening on an ephemeral port. (Fastify's inject() cannot load under Jest's
 * ESM mode here: light-my-request requires the ESM-only `cookie` 2.)
 */
export async function listen(app: NestFastifyApplication): Promise<(path: string, init?: RequestInit) => Promise<HttpResponse>> {
  if (!app.getHttpServer().listening) await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  return async (path, init) => {
    const res = await fetch(base + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
}
