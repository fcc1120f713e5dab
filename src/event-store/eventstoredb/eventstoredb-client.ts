import type {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  AppendResult,
  AppendStreamState,
  EventData,
  KurrentDBClient,
  ReadAllOptions,
  ReadStreamOptions,
  ResolvedEvent,
  SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';

/**
 * The part of the KurrentDB/EventStoreDB client the adapter uses: the seam through which unit tests drive the
 * adapter's decisions with the client's real result shapes and error classes (no server runs in CI), and
 * through which the adapter counts its requests.
 */
export interface EsdbClient {
  appendToStream(streamName: string, events: EventData[], options: { streamState: AppendStreamState }): Promise<AppendResult>;
  readStream(streamName: string, options: ReadStreamOptions): AsyncIterable<ResolvedEvent>;
  readAll(options: ReadAllOptions): AsyncIterable<AllStreamResolvedEvent>;
  subscribeToAll(options: SubscribeToAllOptions): AllStreamSubscription;
  dispose(): Promise<void>;
}

export function realClient(client: KurrentDBClient): EsdbClient {
  return {
    appendToStream: (stream, events, options) => client.appendToStream(stream, events, options),
    readStream: (stream, options) => client.readStream(stream, options),
    readAll: (options) => client.readAll(options),
    subscribeToAll: (options) => client.subscribeToAll(options),
    dispose: () => client.dispose(),
  };
}
