import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import type { EventStore } from './event-store.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

/** EVENTSTORE_URL selects EventStoreDB; otherwise the log lives in the same database as the read models. */
export async function createEventStore(config: AppConfig, database: Database): Promise<EventStore> {
  if (config.EVENTSTORE_URL) {
    const { EventStoreDbEventStore } = await import('./eventstoredb/eventstoredb-event-store.js');
    return EventStoreDbEventStore.connect(config.EVENTSTORE_URL);
  }
  return new PostgresEventStore(database);
}
