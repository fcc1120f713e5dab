import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * PGlite runs in this process and answers each query through promises alone, so a chain of queries (a projection
 * batch, an ingest's appends) never lets the event loop reach its I/O phase: 200 small inserts in a row gave 0
 * turns, and `/health/live` waited for the whole chain (issue #20's hostile suite, 1.4 s in CI). After each query
 * this plugin waits for one turn of the loop, so a stall is bounded by one statement, not by a chain of them.
 * PostgreSQL needs none: its answers arrive as socket I/O.
 */
export class EventLoopTurnsPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return args.result;
  }
}
