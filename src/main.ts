import { existsSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { createApp } from './app.factory.js';
import type { AppConfig } from './config/config.schema.js';
import { ConfigError, loadConfig, runMode } from './config/load-config.js';
import { DataDirLockedError, lockDataDir } from './database/data-dir-lock.js';
import type { Database } from './database/database.js';
import type { EventStore } from './event-store/event-store.js';
import { isAddressInUse, ensurePortFree, PortInUseError } from './http/port-check.js';
import { DATABASE, EVENT_STORE } from './infrastructure/tokens.js';
import { createLogger } from './observability/logger.js';

/** Secrets come from the environment or a git-ignored `.env` (variables already set win). */
function loadDotEnv(): void {
  const file = process.env.ENV_FILE ?? '.env';
  if (existsSync(file)) process.loadEnvFile(file);
}

async function main(): Promise<void> {
  let config: AppConfig;
  let app: NestFastifyApplication;
  const logger: Logger = createLogger(process.env.LOG_LEVEL?.trim() || 'info');
  try {
    loadDotEnv();
    config = loadConfig();
    logger.level = config.LOG_LEVEL;
    // Before anything is created or printed (the first start's admin key included).
    await ensurePortFree(config.HOST, config.PORT);
    if (!config.DATABASE_URL) lockDataDir(config.DATA_DIR, 'service');
    app = await createApp(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.fatal({ problems: error.problems }, error.message);
      process.exit(78); // EX_CONFIG
    }
    if (error instanceof PortInUseError || error instanceof DataDirLockedError) exitTempFail(logger, error);
    throw error;
  }
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    // Taken between the check and the bind.
    if (isAddressInUse(error)) exitTempFail(logger, new PortInUseError(config.HOST, config.PORT));
    throw error;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  logger.info(
    { mode: runMode(config), port, role: config.ROLE, data_dir: config.DATABASE_URL ? undefined : config.DATA_DIR },
    `listening on http://${config.HOST}:${port}`,
  );
  installShutdown(app, config, logger);
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then Nest's shutdown hooks (projections
 * and workers finish the batch in hand and commit checkpoints), then close the event store and pools.
 * Exits 0 when all of that is done within SHUTDOWN_TIMEOUT_MS, else 1.
 */
function installShutdown(app: NestFastifyApplication, config: AppConfig, logger: Logger): void {
  let stopping = false;
  const database = app.get<Database>(DATABASE);
  const store = app.get<EventStore>(EVENT_STORE);
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.info({ signal, deadline_ms: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down: no new requests; finishing in-flight work');
    const deadline = setTimeout(() => {
      logger.error({ deadline_ms: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed; exiting with work unfinished');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    try {
      // Fastify's close waits for in-flight requests and answers new ones 503 meanwhile.
      await app.getHttpAdapter().getInstance().close();
      logger.info({ elapsed_ms: Date.now() - started }, 'HTTP server closed; in-flight requests finished');
      await app.close();
      await closeQuietly(() => store.close());
      await closeQuietly(() => database.close());
      logger.info({ elapsed_ms: Date.now() - started }, 'shutdown complete');
      logger.flush?.();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', (s) => void shutdown(s));
  process.once('SIGINT', (s) => void shutdown(s));
}

/** One line on stderr saying what to do, no stack trace; EX_TEMPFAIL: a retry later may work. */
function exitTempFail(logger: Logger, error: Error): never {
  logger.fatal(error.message);
  logger.flush?.();
  process.stderr.write(`${error.message}\n`);
  process.exit(75);
}

/** Another module may have closed it already; a second close must not fail the shutdown. */
async function closeQuietly(close: () => Promise<void>): Promise<void> {
  try {
    await close();
  } catch {
    /* already closed */
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
