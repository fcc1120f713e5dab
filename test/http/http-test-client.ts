import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { contractFetch } from '../contract/contract-gate.js';

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

/**
 * Real HTTP against an app listening on an ephemeral port, through the app's contract gate (Prism in front of it
 * on the PGlite run: test/contract/contract-gate.ts). (Fastify's inject() cannot load under Jest's ESM mode here:
 * light-my-request requires the ESM-only `cookie` 2.)
 */
export async function listen(app: NestFastifyApplication): Promise<(path: string, init?: RequestInit) => Promise<HttpResponse>> {
  if (!app.getHttpServer().listening) await app.listen({ port: 0, host: '127.0.0.1' });
  return async (path, init) => {
    const { status, headers, text } = await contractFetch(app, path, init);
    return { status, headers, text, json: () => JSON.parse(text) };
  };
}
