import { ConfigError } from '../config/load-config.js';
import { DataDirLockedError } from '../database/data-dir-lock.js';
import { buildProgram } from './program.js';

/** CLI entry: `npm run cli -- <command>` (e.g. `npm run cli -- events verify export.ndjson`). */
buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG, as the service
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(error instanceof DataDirLockedError ? 75 : 1); // EX_TEMPFAIL: the directory is busy
  });
