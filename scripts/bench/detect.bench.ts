/**
 * Detect benchmark (not a test): `npm run bench:detect`.
 * 1. In-process: latency of one ensemble call (AnomalyDetector.scoreWindow on a real 60-s cycle, and
 *    scoreSample) — p50/p90/p99 over many calls after a warm-up.
 * 2. HTTP: the built service (embedded mode, AUTH=off) answering POST /api/v1/detect with one window, and a
 *    trivial Fastify route (POST, same body, constant answer) in its own process as the baseline, both
 *    driven by autocannon at 1 and 16 connections in the same run. On a shared 2-core machine the ratio
 *    detect / trivial is the figure that matters; the two routes take turns in ROUNDS short runs (a neighbour's
 *    load that comes and goes then hits both alike) and the median round is reported.
 * Prints a table and writes bench/results/detect-<date>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { projectRoot } from '../../src/config/paths.js';
import { AnomalyDetector } from '../../src/inference/anomaly-detector.js';
import { loadUci } from '../../src/inference/evaluation/uci-data.js';
import { SENSORS } from '../../src/inference/features/hydraulic-17.js';

const root = projectRoot();
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
// Steady state: after 300 calls the p99 still carried JIT and allocator warm-up (1.0-1.2 ms, against
// 0.45-0.7 ms for the next thousands of calls), which a service pays once in millions of windows.
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 2000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function windowBody(cycle: number, data: ReturnType<typeof loadUci>) {
  const start = Date.UTC(2024, 4, 1, 12, 0, 0);
  return {
    equipment_id: 'bench',
    samples: Array.from({ length: 60 }, (_, s) => ({
      ts: new Date(start + s * 1000).toISOString(),
      values: Object.fromEntries(SENSORS.map((sensor, j) => [sensor, data.windows[cycle]![j]![s]!])),
    })),
  };
}

async function inProcess(data: ReturnType<typeof loadUci>) {
  const detector = await AnomalyDetector.load({ modelsDir: join(root, 'models') });
  const body = windowBody(0, data);
  const rows = [];
  for (const [name, call] of [
    ['scoreWindow (60 x 17)', () => detector.scoreWindow(body.samples)],
    ['scoreSample (17)', () => detector.scoreSample(body.samples[30]!.values)],
  ] as const) {
    for (let i = 0; i < WARMUP_CALLS; i++) await call();
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await call();
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    rows.push({ name, calls: CALLS, p50_ms: percentile(ms, 50), p90_ms: percentile(ms, 90), p99_ms: percentile(ms, 99) });
  }
  await detector.close();
  return rows;
}

function startProcess(args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 120_000;
    const poll = async () => {
      try {
        if ((await fetch(readyUrl)).ok) return resolve(child);
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline || child.exitCode !== null) return reject(new Error(`${args.join(' ')} did not start`));
      setTimeout(poll, 250);
    };
    void poll();
  });
}

const TRIVIAL = `
  const fastify = (await import('fastify')).default({ logger: false, bodyLimit: 32 * 1024 * 1024 });
  fastify.post('/trivial', async () => ({ ok: true }));
  fastify.get('/health/live', async () => ({ ok: true }));
  await fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

async function cannon(url: string, body: string, connections: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: DURATION_S,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    total: result.requests.total,
  };
}

/** How many windows shared a model run on the service's scoring worker, over the whole run (from /metrics). */
async function workerBatching(metricsUrl: string): Promise<{ runs: number; windows: number; mean: number; share_single: number } | null> {
  const text = await (await fetch(metricsUrl)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const runs = read('detect_worker_batch_windows_count');
  const windows = read('detect_worker_batch_windows_sum');
  const single = read('detect_worker_batch_windows_bucket\\{le="1"\\}');
  if (!(runs > 0)) return null;
  return { runs, windows, mean: windows / runs, share_single: single / runs };
}

async function main(): Promise<void> {
  const data = loadUci(join(root, 'models/sample'));
  const inproc = await inProcess(data);

  const dataDir = mkdtempSync(join(tmpdir(), 'bench-detect-'));
  const body = JSON.stringify(windowBody(0, data));
  const service = await startProcess(
    ['dist/src/main.js'],
    { PORT: '3411', HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH: 'off', LOG_LEVEL: 'warn' },
    'http://127.0.0.1:3411/health/live',
  );
  const trivial = await startProcess(['--input-type=module', '-e', TRIVIAL], { PORT: '3412' }, 'http://127.0.0.1:3412/health/live');
  const http = [];
  let batching: Awaited<ReturnType<typeof workerBatching>> = null;
  try {
    for (const connections of [1, 16]) {
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        const base = await cannon('http://127.0.0.1:3412/trivial', body, connections);
        const detect = await cannon('http://127.0.0.1:3411/api/v1/detect', body, connections);
        rounds.push({ trivial: base, detect, throughput_ratio: detect.requests_per_s / base.requests_per_s });
      }
      // the round with the median ratio, and every round for the record
      const median = [...rounds].sort((a, b) => a.throughput_ratio - b.throughput_ratio)[Math.floor(rounds.length / 2)]!;
      http.push({ connections, ...median, rounds });
    }
    batching = await workerBatching('http://127.0.0.1:3411/metrics');
  } finally {
    service.kill('SIGTERM');
    trivial.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }

  console.log(`\nIn-process ensemble latency (${CALLS} calls after ${WARMUP_CALLS} warm-up calls)`);
  console.table(inproc.map((r) => ({ call: r.name, 'p50 ms': r.p50_ms.toFixed(3), 'p90 ms': r.p90_ms.toFixed(3), 'p99 ms': r.p99_ms.toFixed(3) })));
  console.log(
    `\nHTTP, one 60-s window per request (${(body.length / 1024).toFixed(0)} KiB JSON); ${ROUNDS} rounds of ${DURATION_S} s per route, taking turns; the round with the median ratio`,
  );
  console.table(
    http.flatMap((h) => [
      { route: 'trivial POST', conns: h.connections, 'req/s': h.trivial.requests_per_s.toFixed(0), 'p50 ms': h.trivial.p50_ms, 'p90 ms': h.trivial.p90_ms, 'p99 ms': h.trivial.p99_ms, ratio: '' },
      { route: 'POST /api/v1/detect', conns: h.connections, 'req/s': h.detect.requests_per_s.toFixed(0), 'p50 ms': h.detect.p50_ms, 'p90 ms': h.detect.p90_ms, 'p99 ms': h.detect.p99_ms, ratio: h.throughput_ratio.toFixed(2) },
    ]),
  );
  for (const h of http) console.log(`ratio per round at ${h.connections} connection(s): ${h.rounds.map((r) => r.throughput_ratio.toFixed(2)).join(', ')}`);
  if (batching)
    console.log(
      `scoring worker: ${batching.windows} windows in ${batching.runs} model runs, ${batching.mean.toFixed(2)} windows per run on average, ${(100 * batching.share_single).toFixed(0)} % of runs with one window`,
    );
  const out = join(root, 'bench/results', `detect-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine: { cpus: cpus().length, node: process.version }, warmupCalls: WARMUP_CALLS, inProcess: inproc, http, workerBatching: batching }, null, 2));
  console.log(`\nwrote ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
