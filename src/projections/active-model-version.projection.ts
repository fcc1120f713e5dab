import { sql } from 'kysely';
import type { RecordedEvent } from '../event-store/event-store.js';
import { MODEL_VERSION_PROMOTED, type ModelVersionPromotedData } from '../events/model-version-promoted.event.js';
import '../read-side/read-side.tables.js';
import type { Projection, ProjectionContext } from './projection.js';

/** The promoted model version per equipment profile (ModelVersionPromoted on stream `models`). */
export class ActiveModelVersionProjection implements Projection {
  readonly name = 'active_model_versions';
  readonly eventTypes = [MODEL_VERSION_PROMOTED];
  readonly tables = ['active_model_versions'] as const;
  private readonly listeners = new Set<() => void>();

  onPromoted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async apply({ trx, schema }: ProjectionContext, events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type !== MODEL_VERSION_PROMOTED) continue;
      const d = event.data as ModelVersionPromotedData;
      await sql`
        insert into ${sql.table(`${schema}.active_model_versions`)} (profile, model_version, previous_version, promoted_at, event_id, actor)
        values (${d.profile}, ${d.modelVersion}, ${d.previousVersion}, ${event.metadata.occurredAt}, ${event.eventId}, ${event.metadata.actor ?? null})
        on conflict (profile) do update set model_version = excluded.model_version, previous_version = excluded.previous_version,
          promoted_at = excluded.promoted_at, event_id = excluded.event_id, actor = excluded.actor`.execute(trx);
    }
  }

  afterCommit(events: readonly RecordedEvent[]): void {
    if (events.some((e) => e.type === MODEL_VERSION_PROMOTED)) for (const l of this.listeners) l();
  }
}
