import type { Database } from '../database/database.js';
import './read-side.tables.js';

export const DEFAULT_PROFILE = 'hydraulic-17';

/**
 * The model version promoted last (ModelVersionPromoted, stream `models`) per equipment profile, from the
 * `active_model_versions` read model. `undefined` = never promoted: use the manifest's active version.
 * Cached briefly; the projection clears the cache on promotion in this process, the TTL bounds it elsewhere.
 */
export class ActiveModelVersionProvider {
  private readonly cache = new Map<string, { version: string | undefined; expires: number }>();

  constructor(
    private readonly database: Database,
    private readonly ttlMs = 5_000,
  ) {}

  async get(profile: string = DEFAULT_PROFILE): Promise<string | undefined> {
    const hit = this.cache.get(profile);
    if (hit && hit.expires > Date.now()) return hit.version;
    const row = await this.database.db
      .selectFrom('active_model_versions')
      .select('model_version')
      .where('profile', '=', profile)
      .executeTakeFirst();
    const version = row?.model_version;
    this.cache.set(profile, { version, expires: Date.now() + this.ttlMs });
    return version;
  }

  invalidate(): void {
    this.cache.clear();
  }
}
