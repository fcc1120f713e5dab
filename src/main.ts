import { ConfigError, loadConfig, runMode } from './config/load-config.js';
import { createApp } from './app.factory.js';
import { createLogger } from './observability/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const app = await createApp(config, logger);
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    { mode: runMode(config), port: config.PORT, data_dir: config.DATABASE_URL ? undefined : config.DATA_DIR },
    `listening on http://${config.HOST}:${config.PORT}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
