import type { EventStore } from '../event-store.js';

/** Placeholder until the EventStoreDB adapter lands (issue 3): fails loudly instead of pretending. */
export const EventStoreDbEventStore = {
  async connect(_url: string): Promise<EventStore> {
    throw new Error('EVENTSTORE_URL is set but the eventstoredb adapter is not built yet');
  },
};
