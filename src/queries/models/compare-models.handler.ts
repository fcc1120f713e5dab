import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import { ProblemError } from '../../http/problem.js';
import { registryManifest } from '../../read-side/registry-manifest.js';
import { CONFIG, DATABASE } from '../../infrastructure/tokens.js';
import { compareVersions, type ComparedWindow } from '../../read-side/reprojection/compare-versions.js';
import { loadVersionWindows } from '../../read-side/reprojection/version-windows.js';
import { CompareModelsQuery, type ModelComparison } from './compare-models.query.js';

/** `models compare` over HTTP (without labels): both versions must be in the registry, else 404. */
@QueryHandler(CompareModelsQuery)
export class CompareModelsHandler implements IQueryHandler<CompareModelsQuery, ModelComparison> {
  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly database: Database,
  ) {}

  async execute({ params }: CompareModelsQuery): Promise<ModelComparison> {
    const known = (await registryManifest(this.config.MODELS_DIR)).versions.map((v) => v.version);
    const unknown = [params.base, params.candidate].filter((v) => !known.includes(v));
    if (unknown.length) throw new ProblemError('notFound', `model version ${unknown.join(', ')} is not in the registry (known: ${known.join(', ')})`);
    const from = params.from ? Date.parse(params.from) : -Infinity;
    const to = params.to ? Date.parse(params.to) : Infinity;
    const inRange = (w: ComparedWindow) => w.windowStart >= from && w.windowStart < to;
    const base = await loadVersionWindows(this.database, params.base, params.system_id);
    const candidate = await loadVersionWindows(this.database, params.candidate, params.system_id);
    const c = compareVersions(params.base, params.candidate, base.windows.filter(inRange), candidate.windows.filter(inRange));
    return {
      base: c.base,
      candidate: c.candidate,
      sources: { base: base.source, candidate: candidate.source },
      windows: c.windows,
      scopes: c.scopes.map((s) => ({
        scope: s.scope,
        flagged_by_base: s.flaggedByBase,
        flagged_by_candidate: s.flaggedByCandidate,
        both: s.both,
        only_base: s.onlyBase,
        only_candidate: s.onlyCandidate,
        examples: s.examples.map((e) => ({ window: e.window, flagged_by: e.flaggedBy })),
      })),
    };
  }
}
