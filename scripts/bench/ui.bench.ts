/**
 * Console benchmark (not a test): `npm run bench:ui`. The service (in this process) on a fresh PostgreSQL database
 * holding the bench:queries workload (1,000,000 sensor values, 10,000 anomalies; scripts/bench/read-model-workload.ts),
 * Debian's headless Chromium (scripts/ui/chromium.ts), a fresh browser context per round (nothing cached). Measured in
 * the browser with the Performance API: first contentful paint of a system page, the anomaly detail page's 17 sensor
 * charts drawn (the console's `charts-drawn` mark), and the API calls' own times (resource timing). Baseline in the same
 * run: FCP of a one-paragraph page at the same origin. For the detail rows also the time after the last API answer
 * (the browser's own work: parse, 17 charts, paint) and the API bytes. Initial JavaScript gzipped from dist/console/index.html.
 * Targets: FCP and charts <= 1 s; initial JS <= 150 kB gzip. Prints a table, writes bench/results/ui-<date>.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { createApp } from '../../src/app.factory.js';
import { projectRoot } from '../../src/config/paths.js';
import { loadConfig } from '../../src/config/load-config.js';
import { CONSOLE_DIR } from '../../src/console/console-assets.js';
import { createDatabase } from '../../src/database/create-database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import { createScratchDatabase } from '../../src/database/scratch-database.js';
import { launchChromium } from '../ui/chromium.js';
import { ADMIN_URL, insertAnomalies, load, scaled, T0 } from './read-model-workload.js';

const SIZE = scaled(1_000_000, 10_000);
const READINGS = SIZE.readings;
const ANOMALIES = SIZE.anomalies;

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const TARGET_MS = 1000;
const TARGET_JS_GZIP = 150 * 1024;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;

function initialJsGzip(): { files: string[]; bytes: number; gzip: number } {
  const html = readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map((m) => m[1]!);
  let bytes = 0;
  let gzip = 0;
  for (const f of files) {
    const body = readFileSync(join(CONSOLE_DIR, f.replace(/^\//, '')));
    bytes += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { files, bytes, gzip };
}

interface Sample {
  ms: number;
  api: Record<string, number>;
  /** When the last API answer had arrived (ms since navigation start); the rest of `ms` is the browser's own work. */
  apiDone?: number;
  /** Bytes of the API answers as sent (compressed when they were). */
  apiBytes?: number;
  /** Where the time went: every resource (start, response end) and mark, ms since navigation start. */
  timeline?: { name: string; start: number; end: number }[];
}

// Predicates are functions, not strings: Playwright evaluates a string with eval(), which the console's CSP forbids.
async function measurePage(browser: Browser, url: string, ready: () => boolean, metric: () => number | undefined, trace?: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  // BENCH_TRACE=dir: a Chrome performance trace of the page (open it in chrome://tracing or the DevTools).
  if (trace) await browser.startTracing(page, { path: trace, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'disabled-by-default-v8.cpu_profiler'] });
  await page.goto(url);
  await page.waitForFunction(ready, undefined, { timeout: 60_000 });
  if (trace) await browser.stopTracing();
  const ms = await page.evaluate(metric);
  const calls = await page.evaluate(() =>
    (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
      .filter((e) => e.name.includes('/api/v1/') && !e.name.includes('/api/v1/stream'))
      .map((e) => ({ path: new URL(e.name).pathname.replace(/[0-9a-f-]{36}/, '{id}').replace(/bench-\d+/, '{system}'), ms: e.responseEnd - e.requestStart, end: e.responseEnd, bytes: e.transferSize })),
  );
  const timeline = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource'), ...performance.getEntriesByType('paint'), ...performance.getEntriesByType('mark')].map((e) => ({
      name: e.entryType === 'navigation' || e.entryType === 'resource' ? new URL(e.name).pathname : e.name,
      start: Math.round(e.startTime),
      end: Math.round('responseEnd' in e ? (e as PerformanceResourceTiming).responseEnd : e.startTime),
    })),
  );
  await context.close();
  if (ms === undefined) throw new Error(`${url}: no measurement`);
  return {
    ms,
    api: Object.fromEntries(calls.map((c) => [c.path, c.ms])),
    apiDone: Math.max(0, ...calls.map((c) => c.end)),
    apiBytes: calls.reduce((n, c) => n + c.bytes, 0),
    timeline,
  };
}

async function main(): Promise<void> {
  const js = initialJsGzip();
  const scratch = await createScratchDatabase(ADMIN_URL, 'bench_ui');
  const database = await createDatabase({ url: scratch.url, poolSize: 4 });
  let browser: Browser | undefined;
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    await migrateToLatest(database);
    await load(database, scratch.url, SIZE);
    // The anomaly the detail page opens: inside the readings' time range, so its 17 curves have data.
    const anomalyId = randomUUID();
    const readingSeconds = Math.ceil(READINGS / 10 / 17);
    const start = T0 + Math.floor(readingSeconds / 2 / 60) * 60_000;
    await insertAnomalies(database, [
      {
        system_id: 'bench-0',
        model_version: 'v1',
        source: 'live',
        equipment_id: 'eq-1',
        window_start: new Date(start).toISOString(),
        window_end: new Date(start + 60_000).toISOString(),
        is_anomaly: true,
        severity: 'critical',
        affected_component: 'cooler',
        components: { cooler: { condition: 3, degraded: true, probability: 0.99 }, valve: { condition: 100, degraded: false, probability: 0.01 }, pump: { condition: 0, degraded: false, probability: 0.01 }, accumulator: { condition: 130, degraded: false, probability: 0.02 } },
        score: 0.99,
        event_id: anomalyId,
      },
    ]);
    await database.close();

    app = await createApp(loadConfig({ DATABASE_URL: scratch.url, AUTH: 'off', LOG_LEVEL: 'warn', ENV_FILE: '/nonexistent/.env' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await launchChromium();

    const fcp = () => (performance.getEntriesByName('first-contentful-paint')[0] as PerformanceEntry | undefined)?.startTime;
    const charts = () => (performance.getEntriesByName('charts-drawn')[0] as PerformanceEntry | undefined)?.startTime;
    // Baseline, the browser's own floor: a one-paragraph page at the same origin (answered by Playwright, no server work).
    const rows: { page: string; samples: Sample[] }[] = [
      { page: 'baseline: one-paragraph page (FCP)', samples: [] },
      { page: 'system page (FCP)', samples: [] },
      { page: 'system page: table, swimlane and trend shown', samples: [] },
      { page: 'anomaly detail: 17 sensor charts drawn', samples: [] },
      { page: 'anomaly detail from the table (link carries the window): charts drawn', samples: [] },
    ];
    for (let r = 0; r < ROUNDS; r++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.route(`${base}/__baseline`, (route) => route.fulfill({ contentType: 'text/html', body: '<!DOCTYPE html><p>baseline</p>' }));
      await p.goto(`${base}/__baseline`);
      await p.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      rows[0]!.samples.push({ ms: (await p.evaluate(fcp))!, api: {} });
      await ctx.close();
      // A week of the workload: ~80 anomalies of the system in the table's range, 168 hourly swimlane cells.
      const system = `${base}/#/system/bench-${r % 10}?from=${new Date(T0).toISOString()}&to=${new Date(T0 + 7 * 86_400_000).toISOString()}&bucket=1h`;
      const ready = () =>
        !document.querySelector('[aria-busy=true]') &&
        !!document.querySelector('[data-testid=anomaly-table], .pager') &&
        !!document.querySelector('.swimlane') &&
        !!document.querySelector('.chart canvas') &&
        performance.getEntriesByName('first-contentful-paint').length > 0;
      const drawn = () => performance.getEntriesByName('charts-drawn').length > 0;
      const sys = await measurePage(browser, system, ready, fcp);
      rows[1]!.samples.push(sys);
      const shown = await measurePage(browser, system, ready, () => performance.now());
      rows[2]!.samples.push(shown);
      rows[3]!.samples.push(await measurePage(browser, `${base}/#/anomaly/${anomalyId}`, drawn, charts));
      const hint = new URLSearchParams({ system: 'bench-0', equipment: 'eq-1', from: new Date(start).toISOString(), to: new Date(start + 60_000).toISOString() });
      rows[4]!.samples.push(await measurePage(browser, `${base}/#/anomaly/${anomalyId}?${hint}`, drawn, charts));
    }
    if (process.env.BENCH_TRACE) {
      mkdirSync(process.env.BENCH_TRACE, { recursive: true });
      for (const [name, url] of [
        ['detail', `${base}/#/anomaly/${anomalyId}`],
        ['detail-hinted', `${base}/#/anomaly/${anomalyId}?${new URLSearchParams({ system: 'bench-0', equipment: 'eq-1', from: new Date(start).toISOString(), to: new Date(start + 60_000).toISOString() })}`],
      ] as const) {
        await measurePage(browser, url, () => performance.getEntriesByName('charts-drawn').length > 0, charts, join(process.env.BENCH_TRACE, `ui-${name}.trace.json`));
      }
    }
    const baseline = median(rows[0]!.samples.map((s) => s.ms));
    const table = rows.map((row) => {
      const ms = median(row.samples.map((s) => s.ms));
      const apis = [...new Set(row.samples.flatMap((s) => Object.keys(s.api)))].map((k) => `${k} ${round(median(row.samples.map((s) => s.api[k] ?? NaN).filter((x) => !Number.isNaN(x))))} ms`);
      return {
        page: row.page,
        median_ms: round(ms),
        max_ms: round(Math.max(...row.samples.map((s) => s.ms))),
        vs_baseline: row.page.startsWith('baseline') ? 1 : round(ms / baseline),
        target: row.page.startsWith('baseline') || row.page.includes('table, swimlane') ? 'context' : ms <= TARGET_MS ? 'met' : 'NOT met',
        // For the detail rows: what the browser spent after the last API answer (parse, 17 charts, paint).
        after_api_ms: row.page.includes('charts drawn') ? round(median(row.samples.map((s) => s.ms - (s.apiDone ?? 0)))) : undefined,
        api_kB: round(median(row.samples.map((s) => (s.apiBytes ?? 0) / 1024))),
        api_median: apis.join('; '),
      };
    });
    const load1 = loadavg()[0]!;
    console.log(`\nConsole on PostgreSQL: ${READINGS.toLocaleString('en')} sensor values, ${ANOMALIES.toLocaleString('en')} anomalies; ${ROUNDS} rounds, fresh browser context each; load average ${load1.toFixed(1)}`);
    console.table(table.map(({ api_median: _a, ...r }) => r));
    for (const r of table) if (r.api_median) console.log(`  ${r.page} — API calls (median): ${r.api_median}`);
    console.log(`initial JavaScript: ${js.files.join(', ')} = ${(js.bytes / 1024).toFixed(1)} kB, ${(js.gzip / 1024).toFixed(1)} kB gzip (target <= ${TARGET_JS_GZIP / 1024} kB: ${js.gzip <= TARGET_JS_GZIP ? 'met' : 'NOT met'})`);
    const dir = join(projectRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `ui-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { benchmark: 'ui', date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadavg: loadavg() }, readings: READINGS, anomalies: ANOMALIES, rounds: ROUNDS, targetMs: TARGET_MS, initialJs: js, results: table, samples: rows },
        null,
        2,
      ),
    );
    console.log(`wrote ${file}`);
  } finally {
    await browser?.close();
    await app?.close();
    await database.close().catch(() => undefined);
    await scratch.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
