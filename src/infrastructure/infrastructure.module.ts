import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import { createDatabase } from '../database/create-database.js';
import type { Database } from '../database/database.js';
import { migrateToLatest } from '../database/migrate.js';
import { createEventStore } from '../event-store/create-event-store.js';
import type { EventStore } from '../event-store/event-store.js';
import { CONFIG, DATABASE, EVENT_STORE } from './tokens.js';

/** The ports every feature module uses: configuration, the SQL database (read models) and the event store. */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** Last step of shutdown: subscribers stopped in beforeApplicationShutdown, so the pools can close. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.database.close();
  }

  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: CONFIG, useValue: config },
        {
          provide: DATABASE,
          useFactory: async () => {
            const database = await createDatabase({
              url: config.DATABASE_URL,
              dataDir: config.DATA_DIR,
              poolSize: config.DATABASE_POOL_SIZE,
            });
            await migrateToLatest(database);
            return database;
          },
        },
        {
          provide: EVENT_STORE,
          inject: [DATABASE],
          useFactory: (database: Database) => createEventStore(config, database),
        },
      ],
      exports: [CONFIG, DATABASE, EVENT_STORE],
    };
  }
}
