import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { migrateToLatest } from '../database/migrate.js';
import { DEFAULT_PROFILE } from '../read-side/active-model-version.provider.js';
import { promoteModelVersion } from '../commands/promote-model-version/promote-model-version.js';
import { compareVersions, parseProfile, type VersionComparison } from '../read-side/reprojection/compare-versions.js';
import { loadScorer } from '../read-side/reprojection/load-scorer.js';
import { registeredVersions } from '../read-side/reprojection/model-registry.js';
import { reproject } from '../read-side/reprojection/reproject.js';
import { loadVersionWindows } from '../read-side/reprojection/version-windows.js';
import { withRuntime } from './cli-runtime.js';
import { progressBar } from './progress.js';

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const isoDate = (value: string) => {
  if (!Number.isFinite(Date.parse(value))) throw new InvalidArgumentError('must be an ISO-8601 time, e.g. 2026-03-01T00:00:00Z');
  return value;
};
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)} %`);

export function printComparison(c: VersionComparison, sources: { base: string; candidate: string }): void {
  console.log(`compare base ${c.base} (${sources.base}) with candidate ${c.candidate} (${sources.candidate}) over ${c.windows} windows`);
  console.table(
    c.scopes.map((s) => ({
      component: s.scope,
      flagged_base: s.flaggedByBase,
      flagged_candidate: s.flaggedByCandidate,
      both: s.both,
      only_base: s.onlyBase,
      only_candidate: s.onlyCandidate,
      ...(s.labels
        ? {
            labelled: s.labels.labelled,
            fpr_base: pct(s.labels.base.fpr),
            fpr_candidate: pct(s.labels.candidate.fpr),
            recall_base: pct(s.labels.base.recall),
            recall_candidate: pct(s.labels.candidate.recall),
          }
        : {}),
    })),
  );
  const examples = c.scopes.find((s) => s.scope === 'any')?.examples ?? [];
  if (examples.length) {
    console.log('first windows flagged by one version only:');
    for (const e of examples) console.log(`  ${e.window}  flagged by ${e.flaggedBy}`);
  }
}

/** `models reproject | compare | promote | versions`: the data scientists' tools (docs/read-models.md). */
export function modelsCommand(): Command {
  const cmd = new Command('models').description('model versions: re-project history, compare versions, promote');

  cmd
    .command('versions')
    .description('versions in the registry and the promoted one')
    .action(async () => {
      await withRuntime(async (runtime) => {
        const registry = await registeredVersions(runtime.config.MODELS_DIR);
        const promoted = await runtime.database.db.selectFrom('active_model_versions').selectAll().execute();
        console.log(JSON.stringify({ registry, promoted }, null, 2));
      });
    });

  cmd
    .command('reproject')
    .description('score the whole ReadingsIngested history with a version (no events appended) into anomaly_results, source=reprojection')
    .requiredOption('--model-version <version>', 'version from the registry (need not be active)')
    .option('--models-dir <dir>', 'model registry directory (default MODELS_DIR)')
    .option('--system <id>', 'only this system')
    .option('--score-batch <n>', 'windows per batched model call', positiveInt, 512)
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (opts: { modelVersion: string; modelsDir?: string; system?: string; scoreBatch: number; progress?: boolean }) => {
      await withRuntime(async (runtime) => {
        await migrateToLatest(runtime.database);
        const scorer = await loadScorer(opts.modelsDir ?? runtime.config.MODELS_DIR, opts.modelVersion);
        const head = await runtime.store.headPosition();
        const bar = progressBar(head?.prepare ?? 0, `reproject ${opts.modelVersion}`, opts.progress);
        const r = await reproject({
          database: runtime.database,
          store: runtime.store,
          scorer,
          flushTimeoutMs: runtime.config.SAGA_FLUSH_TIMEOUT_MS,
          systemId: opts.system,
          scoreBatch: opts.scoreBatch,
          onProgress: (p) => bar.update(p.position.prepare, { detail: `${p.samples} samples, ${p.windows} windows` }),
        }).finally(() => scorer.close?.());
        bar.stop();
        console.log(
          `re-projected ${r.modelVersion}: ${r.samples} samples -> ${r.windows} windows, ${r.anomalies} anomalies ` +
            `(${r.droppedWindows} dropped, ${r.openWindows} still open) in ${r.seconds.toFixed(1)} s = ${Math.round(r.samplesPerSecond)} samples/s`,
        );
      });
    });

  cmd
    .command('compare')
    .description('where two versions differ per component; with --labels, FPR and recall of each')
    .requiredOption('--base <version>', 'usually the production version')
    .requiredOption('--candidate <version>', 'the version to evaluate')
    .option('--system <id>', 'only this system')
    .option('--labels <file>', 'ground truth in UCI profile.txt layout (one line per 60-s cycle)')
    .option('--labels-start <iso>', 'start time of the first labelled cycle', isoDate)
    .option('--cycle-seconds <n>', 'seconds per labelled cycle', positiveInt, 60)
    .option('--json <file>', 'also write the comparison as JSON')
    .action(
      async (opts: { base: string; candidate: string; system?: string; labels?: string; labelsStart?: string; cycleSeconds: number; json?: string }) => {
        if (opts.labels && !opts.labelsStart) throw new InvalidArgumentError('--labels needs --labels-start');
        await withRuntime(async (runtime) => {
          const base = await loadVersionWindows(runtime.database, opts.base, opts.system);
          const candidate = await loadVersionWindows(runtime.database, opts.candidate, opts.system);
          // A misspelt version would otherwise compare as "no windows" and print a table (exit 0). A version that left
          // the registry but has recorded windows can still be compared.
          const { versions } = await registeredVersions(runtime.config.MODELS_DIR);
          for (const [version, loaded] of [[opts.base, base], [opts.candidate, candidate]] as const)
            if (!versions.includes(version) && loaded.windows.length === 0)
              throw new Error(`model version ${version} is not in the registry and has no recorded windows (known: ${versions.join(', ') || 'none'})`);
          const labels = opts.labels
            ? { cycles: parseProfile(await readFile(opts.labels, 'utf8')), start: Date.parse(opts.labelsStart!), cycleMs: opts.cycleSeconds * 1000 }
            : undefined;
          const comparison = compareVersions(opts.base, opts.candidate, base.windows, candidate.windows, labels);
          printComparison(comparison, { base: base.source, candidate: candidate.source });
          if (opts.json) await writeFile(opts.json, JSON.stringify(comparison, null, 2));
        });
      },
    );

  cmd
    .command('promote')
    .description('record ModelVersionPromoted (stream "models"); the inference saga scores with it from then on')
    .argument('<version>', 'version from the registry')
    .option('--profile <profile>', 'equipment profile', DEFAULT_PROFILE)
    .option('--reason <text>', 'why (kept in the event)')
    .option('--actor <id>', 'who promotes (event metadata)', process.env.USER ?? 'cli')
    .action(async (version: string, opts: { profile: string; reason?: string; actor: string }) => {
      await withRuntime(async (runtime) => {
        const { versions } = await registeredVersions(runtime.config.MODELS_DIR);
        const r = await promoteModelVersion(
          runtime.store,
          { profile: opts.profile, modelVersion: version, reason: opts.reason, registered: versions },
          { actor: opts.actor },
        );
        console.log(r.recorded ? `promoted ${version} for ${opts.profile} (previous: ${r.event!.previousVersion ?? 'none'})` : `${version} is already the promoted version for ${opts.profile}`);
      });
    });

  return cmd;
}
