import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { metrics } from '../observability/metrics.js';
import {
  backoffDelay,
  DEFAULT_JOB_SETTINGS,
  MaxDeliveriesExceededError,
  type ConsumeOptions,
  type Job,
  type JobConsumer,
  type JobQueue,
  type JobQueueSettings,
} from './job-queue.js';

export interface NatsJobQueueOptions extends Partial<JobQueueSettings> {
  servers: string;
  /** JetStream stream (WorkQueue retention) and the one subject it holds. */
  stream: string;
  subject: string;
  /** Durable pull consumer shared by every worker (a consumer group). */
  durable: string;
}

/**
 * JetStream work queue: stream with WorkQueue retention (a message is removed once acked), one durable
 * pull consumer with explicit ack, de-duplication by Nats-Msg-Id = job id. Deliveries are counted by the
 * server (`deliveryCount`); the consumer's own max_deliver stays unlimited so that the application sees the
 * delivery after the last allowed one and records the failure even if the last worker crashed.
 */
export class NatsJobQueue<T> implements JobQueue<T> {
  readonly settings: JobQueueSettings;
  readonly name: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsJobQueueOptions,
  ) {
    this.settings = { ...DEFAULT_JOB_SETTINGS, ...stripUndefined(options) };
    this.name = options.stream;
  }

  static async connect<T>(options: NatsJobQueueOptions): Promise<NatsJobQueue<T>> {
    // Reconnect for as long as it takes: a NATS restart must not leave the queue closed until a service restart.
    const nc = await connect({ servers: options.servers, name: `jobs-${options.stream}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    try {
      const jsm = await jetstreamManager(nc);
      const queue = new NatsJobQueue<T>(nc, jetstream(nc), jsm, options);
      await queue.ensure();
      return queue;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** Creates (or updates) the stream and the durable consumer; safe to run from every worker. */
  private async ensure(): Promise<void> {
    const { stream, subject, durable } = this.options;
    const streamConfig = {
      name: stream,
      subjects: [subject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(this.settings.duplicateWindowMs),
    };
    try {
      await this.jsm.streams.info(stream);
      await this.jsm.streams.update(stream, streamConfig);
    } catch {
      await this.jsm.streams.add(streamConfig);
    }
    const consumerConfig = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.settings.ackWaitMs),
      max_deliver: -1,
      filter_subject: subject,
    };
    try {
      await this.jsm.consumers.info(stream, durable);
      await this.jsm.consumers.update(stream, durable, { ack_wait: consumerConfig.ack_wait, max_deliver: -1 });
    } catch {
      await this.jsm.consumers.add(stream, consumerConfig);
    }
  }

  async enqueue(id: string, data: T): Promise<{ duplicate: boolean }> {
    const ack = await this.js.publish(this.options.subject, JSON.stringify(data), { msgID: id });
    void this.depth().catch(() => undefined);
    return { duplicate: ack.duplicate };
  }

  async depth(): Promise<number> {
    const info = await this.jsm.streams.info(this.options.stream);
    metrics.jobQueueDepth.set({ queue: this.name }, info.state.messages);
    return info.state.messages;
  }

  async consume(options: ConsumeOptions<T>): Promise<JobConsumer> {
    const open = async () => (await this.js.consumers.get(this.options.stream, this.options.durable)).consume({ max_messages: 1 });
    let messages = await open();
    let abandoned = false;
    let closing = false;
    const loop = (async () => {
      for (;;) {
        try {
          for await (const msg of messages) {
            if (abandoned) break;
            await this.deliver(msg, options, () => abandoned);
          }
        } catch {
          /* the pull ended with an error (server restarted, consumer briefly unknown): pull again below */
        }
        if (abandoned || closing) return;
        // The iteration ended without a stop: consume again once the server answers.
        for (;;) {
          await new Promise((r) => setTimeout(r, 1_000));
          if (abandoned || closing) return;
          try {
            messages = await open();
            break;
          } catch {
            /* not yet */
          }
        }
      }
    })();
    return {
      stop: async ({ abandon = false } = {}) => {
        abandoned = abandon;
        closing = true;
        if (abandon) {
          // Like a crash: stop pulling, ack nothing, do not wait for the job in hand; the server redelivers after ack_wait.
          messages.stop();
          return;
        }
        await messages.close().catch(() => undefined);
        await loop.catch(() => undefined);
      },
    };
  }

  private async deliver(msg: JsMsg, options: ConsumeOptions<T>, isAbandoned: () => boolean): Promise<void> {
    const attempt = msg.info.deliveryCount;
    if (attempt > 1) metrics.jobRedeliveries.inc({ queue: this.name });
    let data: T;
    const id = msg.headers?.get('Nats-Msg-Id') || `${this.options.stream}:${msg.seq}`;
    try {
      data = JSON.parse(msg.string()) as T;
    } catch (error) {
      // Not even readable: no retry can help.
      await options.onExhausted({ id, data: undefined as T, attempt, working: () => undefined }, error).catch(() => undefined);
      msg.ack();
      return;
    }
    const job: Job<T> = { id, data, attempt, working: () => msg.working() };
    // Keep the message ours while the job runs; ack_wait then only matters when the worker is gone.
    const heartbeat = setInterval(() => (isAbandoned() ? clearInterval(heartbeat) : msg.working()), Math.max(100, Math.floor(this.settings.ackWaitMs / 3)));
    heartbeat.unref();
    try {
      if (attempt > this.settings.maxDeliveries) {
        await this.exhaust(msg, options, job, new MaxDeliveriesExceededError(attempt, this.settings.maxDeliveries));
        return;
      }
      try {
        await options.handler(job);
        if (!isAbandoned()) await msg.ackAck().catch(() => msg.ack());
      } catch (error) {
        if (isAbandoned()) return;
        if (attempt >= this.settings.maxDeliveries) await this.exhaust(msg, options, job, error);
        else msg.nak(backoffDelay(attempt, this.settings));
      }
    } finally {
      clearInterval(heartbeat);
      void this.depth().catch(() => undefined);
    }
  }

  private async exhaust(msg: JsMsg, options: ConsumeOptions<T>, job: Job<T>, error: unknown): Promise<void> {
    try {
      await options.onExhausted(job, error);
      // The failure is recorded now; ack (not term) so the WorkQueue stream drops the message: NATS 2.9
      // keeps a terminated message in a work-queue stream.
      await msg.ackAck().catch(() => msg.ack());
    } catch {
      msg.nak(backoffDelay(job.attempt, this.settings));
    }
  }

  /** Removes the consumer and the stream (tests create their own and delete them after). */
  async destroy(): Promise<void> {
    await this.jsm.consumers.delete(this.options.stream, this.options.durable).catch(() => undefined);
    await this.jsm.streams.delete(this.options.stream).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

function stripUndefined(options: Partial<JobQueueSettings>): Partial<JobQueueSettings> {
  const keys: (keyof JobQueueSettings)[] = ['maxDeliveries', 'ackWaitMs', 'backoffBaseMs', 'backoffMaxMs', 'duplicateWindowMs'];
  return Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
}
