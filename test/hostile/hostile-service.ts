import { createHash, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Backend } from '../../src/database/database.js';
import { sha256Hex } from '../../src/http/auth/api-keys.js';
import { captureLogs } from '../http/log-capture.js';
import { createTestStorage, type TestStorage } from '../support/test-app.js';

/** The keys of the hostile suite: random per run, so a log line holding one can only have copied it. */
export const KEYS = {
  admin: randomBytes(24).toString('base64url'),
  reader: randomBytes(24).toString('base64url'),
};
const API_KEYS = `root:admin:${sha256Hex(KEYS.admin)},viewer:read:${sha256Hex(KEYS.reader)}`;
export const AUTH = { authorization: `Bearer ${KEYS.admin}` };

/**
 * RSS bound of the test process (jest worker + the service in process, ONNX models loaded, and since the issue's
 * 32 MiB row is sent, that body several times over while in flight: socket buffers, Buffer, text, parsed value) —
 * docs/security.md. CI measured 1,587 MB once the 32 MiB case ran in a worker that had run other suites before.
 */
export const RSS_BOUND_MB = 2_048;
/** The liveness bound the issue sets, on the service's own delay (ProbeReport.maxExcessMs). */
export const LIVE_BOUND_MS = 1_000;

export interface HostileService {
  app: NestFastifyApplication;
  port: number;
  logs: ReturnType<typeof captureLogs>;
  http(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string; json<T = any>(): T }>;
  close(): Promise<void>;
}

/** The service in process on loopback with authentication on (random keys), info-level log captured in memory. */
export async function startHostileService(backend: Backend, env: Record<string, string> = {}): Promise<HostileService> {
  const storage: TestStorage = await createTestStorage(backend);
  const logs = captureLogs('info');
  const config = loadConfig({
    ...storage.env,
    AUTH: 'on',
    API_KEYS,
    LOG_LEVEL: 'info',
    RATE_LIMIT_INGEST_PER_MINUTE: '1000000',
    RATE_LIMIT_ANALYZE_PER_MINUTE: '1000000',
    ...env,
  });
  const app = await createApp(config, logs.logger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as { port: number }).port;
  return {
    app,
    port,
    logs,
    async http(path, init) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
    },
    async close() {
      await app.close();
      await storage.dispose();
    },
  };
}

/**
 * Waits until /health/ready says ok (models loaded, projections caught up): the prober measures the service
 * under attack, not its start-up.
 */
export async function waitReady(svc: HostileService, timeoutMs = 120_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if ((await svc.http('/health/ready', { headers: AUTH })).status === 200) return;
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

export interface ProbeReport {
  probes: number;
  failures: number;
  /** the slowest /health/live answer, as the client saw it (machine load included) */
  maxLatencyMs: number;
  /**
   * the largest delay of /health/live beyond a reference server's answer to a probe sent at the same moment: the
   * reference (an empty HTTP server in a thread of its own, same process) is slowed by the machine as much as the
   * service, but not by the service's own event loop. This is what the liveness bound is asserted on.
   */
  maxExcessMs: number;
  /** the slowest reference answer: how loaded the machine was */
  maxReferenceMs: number;
  maxRssMb: number;
  /** the five slowest probes: when they started, how long they took, and the reference beside */
  slowest: { at: string; ms: number; reference_ms: number }[];
}

/**
 * Polls /health/live every 100 ms from a worker thread (its own event loop: a blocked service loop shows up as
 * latency, not as a missed probe), together with a reference server in another worker thread (the baseline of
 * the same moment), and samples the process RSS.
 */
export function startProber(port: number): { stop(): Promise<ProbeReport> } {
  const reference = new Worker(
    `
    const { parentPort } = require('node:worker_threads');
    const server = require('node:http').createServer((req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => server.close(() => process.exit(0)));
    `,
    { eval: true },
  );
  const referencePort = new Promise<number>((resolve, reject) => {
    reference.once('message', resolve);
    reference.once('error', reject);
  });
  const worker = referencePort.then(
    (refPort) =>
      new Worker(
        `
    const { parentPort, workerData } = require('node:worker_threads');
    const report = { probes: 0, failures: 0, maxLatencyMs: 0, maxExcessMs: 0, maxReferenceMs: 0, maxRssMb: 0, slowest: [] };
    let running = true;
    parentPort.on('message', () => { running = false; });
    const timed = async (url, check) => {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(30000) });
        await res.text();
        if (check && res.status !== 200) report.failures++;
      } catch { if (check) report.failures++; }
      return performance.now() - t0;
    };
    (async () => {
      while (running) {
        const startedAt = Date.now();
        const [ms, ref] = await Promise.all([
          timed('http://127.0.0.1:' + workerData.port + '/health/live', true),
          timed('http://127.0.0.1:' + workerData.refPort + '/', false),
        ]);
        report.probes++;
        report.maxLatencyMs = Math.max(report.maxLatencyMs, ms);
        report.maxReferenceMs = Math.max(report.maxReferenceMs, ref);
        report.maxExcessMs = Math.max(report.maxExcessMs, ms - ref);
        report.slowest.push({ at: new Date(startedAt).toISOString().slice(11, 23), ms: Math.round(ms), reference_ms: Math.round(ref) });
        report.slowest.sort((a, b) => b.ms - a.ms);
        report.slowest.length = Math.min(report.slowest.length, 5);
        report.maxRssMb = Math.max(report.maxRssMb, process.memoryUsage.rss() / 1048576);
        await new Promise((r) => setTimeout(r, 100));
      }
      parentPort.postMessage(report);
    })();
    `,
        { eval: true, workerData: { port, refPort } },
      ),
  );
  return {
    stop: async () => {
      const w = await worker;
      const r = await new Promise<ProbeReport>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage('stop');
      });
      await w.terminate();
      reference.postMessage('stop');
      return { ...r, maxLatencyMs: Math.round(r.maxLatencyMs), maxExcessMs: Math.round(r.maxExcessMs), maxReferenceMs: Math.round(r.maxReferenceMs), maxRssMb: Math.round(r.maxRssMb) };
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** ms from the first byte sent to the status line received (or to the close, when none came) */
  elapsedMs: number;
  /** the body bytes written before the answer came */
  bodyBytesSent: number;
  /** the service closed the connection (EPIPE/ECONNRESET) before its answer could be read: it refused the body */
  closedEarly?: boolean;
}

export interface RawRequest {
  method?: string;
  /** sent as is: no normalisation, no encoding */
  target: string;
  headers?: Record<string, string>;
  /** whole body, or the bytes to trickle */
  body?: Buffer;
  /** a large body made by the client thread: prefix, `length` bytes of `byte`, suffix */
  fill?: { prefix?: string; length: number; byte?: number; suffix?: string };
  /** declared Content-Length (defaults to body length) */
  contentLength?: number;
  /** write the body in this many bytes per step, waiting `everyMs` between steps */
  chunkBytes?: number;
  everyMs?: number;
  /** give up after this long */
  timeoutMs?: number;
  /** raw request head (bypasses method/target/headers) */
  head?: string;
}

/**
 * One request over a raw socket, so a client can misbehave: lie about the length, trickle, send garbage. It runs
 * in a worker thread (raw-client.worker.mjs): the attacker's own work (writing 31 MiB, trickling) must not load
 * the event loop the service under test runs on.
 */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  clientWorker ??= startClientWorker();
  const id = ++requestIds;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    clientWorker!.postMessage({ id, port, req });
  });
}

let clientWorker: Worker | undefined;
let requestIds = 0;
const pending = new Map<number, { resolve: (r: RawResponse) => void; reject: (e: Error) => void }>();

function startClientWorker(): Worker {
  const worker = new Worker(new URL('./raw-client.worker.mjs', import.meta.url));
  worker.unref();
  worker.on('message', (m: { id: number; result?: RawResponse; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result!);
  });
  return worker;
}

/** Ends the client worker (afterAll). */
export async function stopRawClient(): Promise<void> {
  const w = clientWorker;
  clientWorker = undefined;
  await w?.terminate();
}

export const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

export function isProblem(status: number, contentType: string | null | undefined, body: string): boolean {
  if (!/^application\/problem\+json/.test(contentType ?? '')) return false;
  try {
    const doc = JSON.parse(body);
    return doc.status === status && typeof doc.type === 'string' && typeof doc.title === 'string' && !/at .*\.(ts|js):\d+|select |insert into/i.test(body);
  } catch {
    return false;
  }
}

/** Rows of the long format with unique keys. */
export function readings(n: number, system = 'hz-1', start = Date.UTC(2024, 0, 1)): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ system_id: system, equipment_id: 'eq-1', sensor_id: `S${i % 5}`, ts: new Date(start + Math.floor(i / 5) * 1000).toISOString(), v: i }));
}

export function deepObject(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}
