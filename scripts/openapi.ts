/**
 * Writes the OpenAPI 3.1 document to openapi.json (or the path given): `npm run openapi [-- out.json]`.
 * Boots the app against an in-memory database (no network port) and asks it for the same document
 * GET /openapi.json serves.
 */
import { writeFile } from 'node:fs/promises';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/load-config.js';
import { OpenApiDocumentService } from '../src/http/openapi/openapi-document.service.js';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'openapi.json';
  const config = loadConfig({ DATA_DIR: 'memory://', AUTH: 'off', ROLE: 'api', LOG_LEVEL: 'error' });
  const app = await createApp(config);
  await app.init();
  const document = app.get(OpenApiDocumentService).document();
  await writeFile(out, `${JSON.stringify(document, null, 2)}\n`);
  const operations = Object.values(document.paths ?? {}).reduce((n, item) => n + Object.keys(item as object).length, 0);
  console.log(`wrote ${out}: ${Object.keys(document.paths ?? {}).length} paths, ${operations} operations`);
  await app.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
