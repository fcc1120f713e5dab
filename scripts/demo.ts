/**
 * `npm run demo`: the service on embedded defaults (PGlite under DEMO_DATA_DIR, default ./data/demo; AUTH off
 * unless set) and a replay of models/sample (48 cycles of the UCI hydraulic data set, CC BY 4.0) through the
 * public ingest API on an accelerated clock: one 60-s cycle per second for each of three rigs, mostly healthy
 * cycles with a faulty one now and then, so the console shows healthy windows, anomalies arriving live and
 * the trend filling in. Ctrl-C stops it.
 */
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/load-config.js';
import { loadSampleCycles } from './demo/sample-cycles.js';

const RIGS = [
  { system: 'plant-north', equipment: 'press-7', faultEvery: 5 },
  { system: 'plant-north', equipment: 'press-8', faultEvery: 9 },
  { system: 'plant-south', equipment: 'test-rig-2', faultEvery: 7 },
];

async function main(): Promise<void> {
  const env = { DATA_DIR: process.env.DEMO_DATA_DIR ?? './data/demo', AUTH: 'off', ...process.env };
  const config = loadConfig(env);
  const app = await createApp(config);
  app.enableShutdownHooks();
  await app.listen({ port: config.PORT, host: config.HOST });
  const base = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`;
  const key = process.env.DEMO_API_KEY;
  console.log(`\n  Operator console: ${base}/   (API docs: ${base}/docs)\n  Replaying models/sample: one 60-s cycle per second per rig. Ctrl-C stops.\n`);
  const sample = loadSampleCycles();
  // Data time starts an hour ago and runs 60x faster than the wall clock.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.once('SIGTERM', () => (stopping = true));
  for (let k = 0; !stopping && k < Number(process.env.DEMO_CYCLES ?? Infinity); k++) {
    const started = Date.now();
    const rows = RIGS.flatMap((r, i) => {
      const faulty = k % r.faultEvery === r.faultEvery - 1;
      const cycle = faulty ? sample.faulty[(k + i) % sample.faulty.length]! : sample.healthy[(k + i) % sample.healthy.length]!;
      return sample.rows(cycle, t0 + k * 60_000, r.system, r.equipment);
    });
    const res = await fetch(`${base}/api/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(rows),
    });
    if (!res.ok) console.error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    else if (k % 10 === 0) console.log(`  cycle ${k}: data time ${new Date(t0 + k * 60_000).toISOString()}`);
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
  }
  await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
