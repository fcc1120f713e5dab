/**
 * npm run evaluate -- --data DIR [--models models] [--version V] [--out bench/results] [--production]
 *
 * Scores a folder in the UCI hydraulic layout with the ensemble and each model alone; prints FPR,
 * recall, accuracy, macro-F1 per component for whole cycles and single samples; writes a JSON
 * report and a confusion-matrix SVG. On the training set it uses the block-CV fold models.
 */
import { Command } from 'commander';
import { AnomalyDetector } from '../src/inference/anomaly-detector.js';
import { measureLatency } from '../src/inference/evaluation/latency.js';
import { evaluate, formatReport } from '../src/inference/evaluation/run-evaluation.js';
import { loadUci } from '../src/inference/evaluation/uci-data.js';

const program = new Command()
  .name('evaluate')
  .requiredOption('--data <dir>', 'folder in the UCI layout (PS1.txt ... SE.txt, profile.txt)')
  .option('--models <dir>', 'models directory holding manifest.json', 'models')
  .option('--version <version>', 'model version (default: the manifest active version)')
  .option('--out <dir>', 'output directory for the JSON report and SVG', 'bench/results')
  .option('--latency <calls>', 'also measure in-process scoreWindow/scoreSample latency over this many calls', (v) => Number.parseInt(v, 10))
  .option('--production', 'use the production models even on the training set (in-sample, optimistic)', false)
  .parse(process.argv);

const o = program.opts<{ data: string; models: string; version?: string; out: string; production: boolean; latency?: number }>();
try {
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
} catch (e) {
  console.error(`evaluate: ${(e as Error).message}`);
  process.exitCode = 1;
}
