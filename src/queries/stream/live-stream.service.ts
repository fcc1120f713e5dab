import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Database } from '../../database/database.js';
import type { EventStore, Subscription } from '../../event-store/event-store.js';
import { ANOMALY_DETECTED, ANOMALY_FEEDBACK_RECORDED } from '../../events/anomaly-detected.event.js';
import { categories, streams } from '../../events/streams.js';
import type { AppConfig } from '../../config/config.schema.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { waitForCheckpoints } from '../../projections/wait-for-checkpoints.js';
import { decodePosition, formatSse, liveMessages } from './live-messages.js';

/** The read models a client re-reads on a message: it is sent only once both have committed the event. */
const PROJECTIONS = ['anomaly_results', 'anomaly_trend'];

interface Client {
  reply: FastifyReply;
  subscription: Subscription;
  heartbeat: NodeJS.Timeout;
  closed: boolean;
}

/**
 * Server-sent events for the console: each client is a catch-up subscription on the anomalies streams from its
 * Last-Event-ID (a log position), so a reconnect misses nothing; without one it starts at the head of the log.
 */
@Injectable()
export class LiveStreamService implements BeforeApplicationShutdown {
  private readonly clients = new Set<Client>();
  private readonly logger = new Logger('LiveStream');

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  get connected(): number {
    return this.clients.size;
  }

  async open(reply: FastifyReply, systemId: string | undefined, lastEventId: string | undefined): Promise<void> {
    const after = decodePosition(lastEventId) ?? (await this.store.headPosition());
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-correlation-id': String(reply.request.id),
    });
    raw.write('retry: 2000\n: connected\n\n');
    const client: Client = { reply, closed: false } as Client;
    client.subscription = this.store.subscribeToAll({
      after,
      filter: { streamPrefixes: [systemId ? streams.anomalies(systemId) : categories.anomalies], eventTypes: [ANOMALY_DETECTED, ANOMALY_FEEDBACK_RECORDED] },
      batchSize: 200,
      handler: async (events) => {
        await waitForCheckpoints(this.database.db, PROJECTIONS, events[events.length - 1]!.position, { intervalMs: 50, cancelled: () => client.closed });
        if (client.closed) return;
        for (const m of liveMessages(events, systemId)) raw.write(formatSse(m));
      },
      onError: (err) => {
        this.logger.warn({ err }, 'live stream subscription failed; closing the stream (the browser reconnects with Last-Event-ID)');
        void this.close(client);
      },
    });
    client.heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), this.config.STREAM_HEARTBEAT_MS);
    this.clients.add(client);
    raw.on('close', () => void this.close(client));
  }

  private async close(client: Client): Promise<void> {
    if (client.closed) return;
    client.closed = true;
    clearInterval(client.heartbeat);
    this.clients.delete(client);
    await client.subscription.stop().catch(() => undefined);
    if (!client.reply.raw.writableEnded) client.reply.raw.end();
  }

  /** Ends every stream before the HTTP server closes (it would otherwise wait for them) and the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.clients].map((c) => this.close(c)));
  }
}
