/**
 * npm run evaluate -- --data DIR [--protocol block|stretch|all] [--models models] [--version V] [--out bench/results]
 *                     [--production] [--ensemble-oof FILE] [--components a,b] [--trees N]
 *
 * block (default): scores a folder in the UCI hydraulic layout with the ensemble and each model alone; prints
 * FPR, recall, accuracy, macro-F1 per component for whole cycles and single samples; writes a JSON report and a
 * confusion-matrix SVG. On the training set it uses the block-CV fold models.
 * Every protocol (block, stretch) then prints per component AUC, FPR, recall per condition and recall at
 * FPR <= 2 % of refitted learners with nested thresholds, each beside the cycle-index leakage control
 * (src/inference/evaluation/run-protocols.ts; docs/models.md §4).
 */
import { Command } from 'commander';
import { AnomalyDetector } from '../src/inference/anomaly-detector.js';
import { measureLatency } from '../src/inference/evaluation/latency.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COMPONENTS, type ComponentName } from '../src/inference/ensemble.js';
import { PROTOCOLS, type Protocol } from '../src/inference/evaluation/folds.js';
import { evaluate, formatReport } from '../src/inference/evaluation/run-evaluation.js';
import { formatProtocols, runProtocols } from '../src/inference/evaluation/run-protocols.js';
import { readManifest, selectVersion } from '../src/inference/registry.js';
import { loadUci } from '../src/inference/evaluation/uci-data.js';

const program = new Command()
  .name('evaluate')
  .requiredOption('--data <dir>', 'folder in the UCI layout (PS1.txt ... SE.txt, profile.txt)')
  .option('--models <dir>', 'models directory holding manifest.json', 'models')
  .option('--version <version>', 'model version (default: the manifest active version)')
  .option('--out <dir>', 'output directory for the JSON report and SVG', 'bench/results')
  .option('--latency <calls>', 'also measure in-process scoreWindow/scoreSample latency over this many calls', (v) => Number.parseInt(v, 10))
  .option('--production', 'use the production models even on the training set (in-sample, optimistic)', false)
  .option('--protocol <p>', 'block | stretch | all', 'block')
  .option('--ensemble-oof <file>', 'stretch rows of the ensemble recipe refitted per fold (models/train/stretch_cv.py output)')
  .option('--components <list>', 'components of the protocol tables (comma-separated)', COMPONENTS.join(','))
  .option('--trees <n>', 'trees of the refitted extra-trees learner', (v) => Number.parseInt(v, 10), 50)
  .parse(process.argv);

const o = program.opts<{ data: string; models: string; version?: string; out: string; production: boolean; latency?: number; protocol: string; ensembleOof?: string; components: string; trees: number }>();
try {
  if (o.protocol !== 'all' && !(PROTOCOLS as readonly string[]).includes(o.protocol)) throw new Error(`--protocol: '${o.protocol}' is not one of block, stretch, all`);
  const components = o.components.split(',').map((c) => c.trim());
  const badComponent = components.find((c) => !(COMPONENTS as readonly string[]).includes(c));
  if (badComponent) throw new Error(`--components: '${badComponent}' is not one of ${COMPONENTS.join(', ')}`);
  const protocols: Protocol[] = o.protocol === 'all' ? [...PROTOCOLS] : [o.protocol as Protocol];
  if (protocols.includes('block')) await blockReport();
  const v = selectVersion(await readManifest(o.models), o.version);
  const reports = await runProtocols({
    data: loadUci(o.data),
    version: v,
    modelsDir: o.models,
    protocols,
    components: components as ComponentName[],
    trees: o.trees,
    ensembleOof: o.ensembleOof,
    log: (l) => console.error(l),
  });
  console.log(formatProtocols(reports, v));
  mkdirSync(o.out, { recursive: true });
  const file = path.join(o.out, `protocols-${v.version}-${path.basename(path.resolve(o.data))}-${o.protocol}.json`);
  writeFileSync(file, JSON.stringify({ version: v.version, data: path.resolve(o.data), reports }, null, 1) + '\n');
  console.log(`report ${file}`);
} catch (e) {
  console.error(`evaluate: ${(e as Error).message}`);
  process.exitCode = 1;
}

async function blockReport(): Promise<void> {
  const report = await evaluate({
    dataDir: o.data,
    modelsDir: o.models,
    version: o.version,
    outDir: o.out,
    production: o.production,
    log: (l) => console.error(l),
  });
  console.log(formatReport(report));
  if (o.latency) {
    const det = await AnomalyDetector.load({ modelsDir: o.models, version: o.version });
    const windows = loadUci(o.data).windows.slice(0, 50);
    const l = await measureLatency(det, windows, o.latency);
    await det.close();
    const f = (x: number) => x.toFixed(3);
    console.log(`latency over ${l.calls} calls (all models + adaptive, intraOpNumThreads 1): ` +
      `scoreWindow p50 ${f(l.window.p50)} ms p99 ${f(l.window.p99)} ms max ${f(l.window.max)} ms ` +
      `(CPU time per call p50 ${f(l.windowCpu.p50)} ms p99 ${f(l.windowCpu.p99)} ms); ` +
      `scoreSample p50 ${f(l.sample.p50)} ms p99 ${f(l.sample.p99)} ms`);
  }
}
