import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql } from 'kysely';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { ManifestVersion } from '../../inference/registry.js';
import { registryManifest } from '../../read-side/registry-manifest.js';
import { CONFIG, DATABASE } from '../../infrastructure/tokens.js';
import { ActiveModelVersionProvider } from '../../read-side/active-model-version.provider.js';
import { ListModelsQuery, type ModelVersionList } from './list-models.query.js';

type Metric = { n?: number; fpr?: number; recall?: number; accuracy?: number; macroF1?: number };
const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** The registry (models/manifest.json) with the promoted version and the verdicts operators gave per component. */
@QueryHandler(ListModelsQuery)
export class ListModelsHandler implements IQueryHandler<ListModelsQuery, ModelVersionList> {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly database: Database,
    private readonly activeVersion: ActiveModelVersionProvider,
  ) {}

  async execute(): Promise<ModelVersionList> {
    const manifest = await registryManifest(this.config.MODELS_DIR);
    const promoted = await this.activeVersion.get(manifest.versions[0]?.profile);
    const active = promoted ?? this.config.MODEL_VERSION ?? manifest.active;
    const { rows } = await sql<{ model_version: string; component: string; reviewed: number; false_positives: number }>`
      select model_version, coalesce(affected_component, 'unattributed') as component, count(*)::int as reviewed,
        count(*) filter (where feedback = 'false_positive')::int as false_positives
      from anomaly_results where feedback is not null and is_anomaly and source <> 'reprojection'
      group by 1, 2`.execute(this.database.db);
    return {
      active,
      manifest_default: manifest.active,
      items: manifest.versions.map((v) => ({
        version: v.version,
        profile: v.profile,
        created: v.created ?? null,
        active: v.version === active,
        models: models(v),
        component_weights: (v.ensemble.componentWeights ?? {}) as Record<string, Record<string, number>>,
        metrics: metrics(v),
        feedback: Object.fromEntries(
          rows
            .filter((r) => r.model_version === v.version)
            .map((r) => [r.component, { reviewed: r.reviewed, false_positives: r.false_positives, false_positive_rate: r.reviewed ? r.false_positives / r.reviewed : null }]),
        ),
      })),
    };
  }
}

function models(v: ManifestVersion) {
  const weights = v.ensemble.weights as Record<string, number | undefined>;
  const out = Object.entries(v.models).map(([name, spec]) => ({ name, weight: weights[name] ?? 0, path: (spec as { path: string }).path }));
  out.push({ name: 'adaptive', weight: weights.adaptive ?? 0, path: '(manifest: adaptive thresholds)' });
  return out;
}

function metrics(v: ManifestVersion) {
  const cycle = ((v.cv?.metrics ?? null) as { cycle?: { ensemble?: Record<string, Metric> } } | null)?.cycle?.ensemble;
  if (!cycle) return null;
  return Object.fromEntries(
    Object.entries(cycle).map(([component, m]) => [
      component,
      { n: Math.trunc(num(m.n) ?? 0), fpr: num(m.fpr), recall: num(m.recall), accuracy: num(m.accuracy), macro_f1: num(m.macroF1) },
    ]),
  );
}
