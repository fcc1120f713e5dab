import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import { ProblemError } from '../../http/problem.js';
import { registryManifest } from '../../read-side/registry-manifest.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { waitForCheckpoints } from '../../projections/wait-for-checkpoints.js';
import { ActiveModelVersionProvider } from '../../read-side/active-model-version.provider.js';
import { PromotionRejected } from './decide-promotion.js';
import { PromoteModelVersionCommand, type PromoteResult } from './promote-model-version.command.js';
import { promoteModelVersion } from './promote-model-version.js';

/** HTTP twin of `models promote`: the same fold, decide and append (promote-model-version.ts). */
@CommandHandler(PromoteModelVersionCommand)
export class PromoteModelVersionHandler implements ICommandHandler<PromoteModelVersionCommand, PromoteResult> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly database: Database,
    private readonly activeVersion: ActiveModelVersionProvider,
  ) {}

  async execute({ modelVersion, reason, context }: PromoteModelVersionCommand): Promise<PromoteResult> {
    const manifest = await registryManifest(this.config.MODELS_DIR);
    const version = manifest.versions.find((v) => v.version === modelVersion);
    if (!version) throw new ProblemError('notFound', `model version ${modelVersion} is not in the registry (known: ${manifest.versions.map((v) => v.version).join(', ')})`);
    try {
      const r = await promoteModelVersion(
        this.store,
        { profile: version.profile, modelVersion, reason, registered: manifest.versions.map((v) => v.version) },
        { actor: context.actor, correlationId: context.correlationId },
      );
      // Answer once the promotion read model shows it, so the next GET /models names the new active version.
      if (r.position) await waitForCheckpoints(this.database.db, ['active_model_versions'], r.position, { timeoutMs: 5_000 });
      this.activeVersion.invalidate();
      const previous = r.event?.previousVersion ?? null;
      return { recorded: r.recorded, profile: version.profile, model_version: modelVersion, previous_version: r.recorded ? previous : null };
    } catch (error) {
      if (error instanceof PromotionRejected) throw new ProblemError('notFound', error.message);
      throw error;
    }
  }
}
