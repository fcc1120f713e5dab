import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../config/paths.js';

/** Where `npm run build:console` (Vite) writes the operator console. */
export const CONSOLE_DIR = join(projectRoot(), 'dist', 'console');

const TYPES: Record<string, string> = {
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const NOT_BUILT = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><title>Console not built</title></head>
<body><p>The operator console is not built: run <code>npm run build</code> (npm start does it).</p></body></html>`;

/**
 * The console's files: `/` (index.html) and `/assets/*` (content-hashed, cached for a year). Open without a key:
 * the page asks for one and sends it with every API call. The files are read once, at start-up.
 */
export async function registerConsole(fastify: FastifyInstance, open: { add(url: string): void }, dir = CONSOLE_DIR): Promise<void> {
  // Open without a key: the page itself asks for one.
  for (const url of ['/', '/assets/:file']) open.add(url);
  const files = new Map<string, Buffer>();
  if (existsSync(join(dir, 'index.html'))) {
    files.set('index.html', await readFile(join(dir, 'index.html')));
    const assets = join(dir, 'assets');
    if (existsSync(assets)) for (const f of await readdir(assets)) files.set(f, await readFile(join(assets, f)));
  }
  fastify.get('/', async (_req, reply) => {
    const index = files.get('index.html');
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .code(index ? 200 : 503)
      .send(index ?? NOT_BUILT);
  });
  fastify.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const body = request.params.file !== 'index.html' ? files.get(request.params.file) : undefined;
    if (!body) return reply.callNotFound();
    return reply
      .type(TYPES[extname(request.params.file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(body);
  });
}
