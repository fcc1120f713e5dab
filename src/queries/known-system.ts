import type { Database } from '../database/database.js';
import { problemResponse } from '../http/openapi/problem.schema.js';
import { ProblemError } from '../http/problem.js';

export const UNKNOWN_SYSTEM = 'is not a known system (GET /api/v1/systems lists them)';

/** The documented 404 of every route under /api/v1/systems/{id}. */
export const unknownSystemResponse = problemResponse('No such system: no reading of it was ever accepted (`errors[0].field` is `id`)');

/**
 * The one rule for every route under /api/v1/systems/{id} (docs/errors.md): a system is known once a reading of
 * it has been accepted (the system_equipment read model, what GET /api/v1/systems lists); any other id is a 404
 * naming `id`, rather than an empty answer that cannot be told from a typo.
 */
export async function requireKnownSystem(database: Database, systemId: string): Promise<void> {
  const known = await database.db
    .selectFrom('system_equipment')
    .select('system_id')
    .where('system_id', '=', systemId)
    .limit(1)
    .executeTakeFirst();
  if (!known) throw new ProblemError('notFound', `no system ${systemId}`, [{ field: 'id', message: UNKNOWN_SYSTEM }]);
}
