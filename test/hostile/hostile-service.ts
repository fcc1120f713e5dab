import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
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

/** RSS bound of the test process (jest worker + the service in process, ONNX models loaded) — docs/security.md. */
export const RSS_BOUND_MB = 1_536;
/** The liveness bound the issue sets. */
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

export interface ProbeReport {
  probes: number;
  failures: number;
  maxLatencyMs: number;
  maxRssMb: number;
  /** the five slowest probes: when they started and how long they took */
  slowest: { at: string; ms: number }[];
}

/**
 * Polls /health/live every 100 ms from a worker thread (its own event loop: a blocked service loop shows up as
 * latency, not as a missed probe) and samples the process RSS.
 */
export function startProber(port: number): { stop(): Promise<ProbeReport> } {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const report = { probes: 0, failures: 0, maxLatencyMs: 0, maxRssMb: 0, slowest: [] };
    let running = true;
    parentPort.on('message', () => { running = false; });
    (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          const res = await fetch('http://127.0.0.1:' + workerData.port + '/health/live', { signal: AbortSignal.timeout(30000) });
          await res.text();
          if (res.status !== 200) report.failures++;
        } catch { report.failures++; }
        report.probes++;
        const ms = performance.now() - t0;
        report.maxLatencyMs = Math.max(report.maxLatencyMs, ms);
        report.slowest.push({ at: new Date(Date.now() - ms).toISOString().slice(11, 23), ms: Math.round(ms) });
        report.slowest.sort((a, b) => b.ms - a.ms);
        report.slowest.length = Math.min(report.slowest.length, 5);
        report.maxRssMb = Math.max(report.maxRssMb, process.memoryUsage.rss() / 1048576);
        await new Promise((r) => setTimeout(r, 100));
      }
      parentPort.postMessage(report);
    })();
    `,
    { eval: true, workerData: { port } },
  );
  return {
    stop: () =>
      new Promise<ProbeReport>((resolve, reject) => {
        worker.once('message', (r: ProbeReport) => {
          void worker.terminate();
          resolve({ ...r, maxLatencyMs: Math.round(r.maxLatencyMs), maxRssMb: Math.round(r.maxRssMb) });
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
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
}

export interface RawRequest {
  method?: string;
  /** sent as is: no normalisation, no encoding */
  target: string;
  headers?: Record<string, string>;
  /** whole body, or the bytes to trickle */
  body?: Buffer;
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

/** One request over a raw socket, so a client can misbehave: lie about the length, trickle, send garbage. */
export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const started = performance.now();
    const body = req.body ?? Buffer.alloc(0);
    const length = req.contentLength ?? body.length;
    let received = Buffer.alloc(0);
    let answeredAt: number | undefined;
    let sent = 0;
    let finished = false;
    const timer = setTimeout(() => finish(new Error(`no answer within ${req.timeoutMs ?? 30_000} ms`)), req.timeoutMs ?? 30_000);
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      if (error && answeredAt === undefined) return reject(error);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
        headers,
        body: split >= 0 ? Buffer.from(text.slice(split + 4), 'latin1').toString('utf8') : '',
        elapsedMs: Math.round((answeredAt ?? performance.now()) - started),
        bodyBytesSent: sent,
      });
    };
    socket.on('data', (chunk: Buffer) => {
      answeredAt ??= performance.now();
      received = Buffer.concat([received, chunk]);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const m = /content-length:\s*(\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && m && received.length >= split + 4 + Number(m[1])) finish();
    });
    socket.on('close', () => finish());
    socket.on('error', (e) => finish(e));
    socket.on('connect', async () => {
      const head =
        req.head ??
        `${req.method ?? 'POST'} ${req.target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries({ 'content-length': String(length), ...req.headers })
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')}\r\n\r\n`;
      socket.write(head, 'latin1');
      const step = req.chunkBytes ?? body.length;
      for (let i = 0; i < body.length && !finished && answeredAt === undefined; i += step) {
        const chunk = body.subarray(i, i + step);
        const ok = socket.write(chunk);
        sent += chunk.length;
        if (req.everyMs) await new Promise((r) => setTimeout(r, req.everyMs));
        else if (!ok) await new Promise((r) => socket.once('drain', r));
      }
    });
  });
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
