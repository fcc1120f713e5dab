import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** The Swagger UI assets shipped inside @fastify/swagger-ui (served locally; no CDN). */
const ASSETS = new Map<string, string>(Object.entries({
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
}));

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'
  });
};`;

const HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Equipment anomaly platform API</title>
<link rel="stylesheet" type="text/css" href="/docs/static/swagger-ui.css" />
<link rel="stylesheet" type="text/css" href="/docs/static/index.css" />
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png" sizes="32x32" />
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="/docs/static/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script src="/docs/static/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`;

/**
 * Interactive docs at /docs over /openapi.json, with the Swagger UI files of @fastify/swagger-ui.
 * Served by these few routes rather than the plugin itself, whose @fastify/static dependency cannot be
 * loaded under Jest's ESM mode; the assets are the same. Open without a key, like /openapi.json. Typed keys are
 * not persisted (no `persistAuthorization`): a key in localStorage would outlive the tab.
 */
export function registerDocsPage(fastify: FastifyInstance, open: { add(url: string): void }): void {
  for (const url of ['/docs', '/docs/', '/docs/static/swagger-initializer.js', '/docs/static/:file']) open.add(url);
  const staticDir = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')), 'static');
  const cache = new Map<string, Buffer>();
  const page = async (_req: unknown, reply: { type(t: string): { send(b: string): unknown } }) => reply.type('text/html; charset=utf-8').send(HTML);
  fastify.get('/docs', page);
  fastify.get('/docs/', page);
  fastify.get('/docs/static/swagger-initializer.js', async (_req, reply) => reply.type('application/javascript; charset=utf-8').send(INITIALIZER));
  fastify.get<{ Params: { file: string } }>('/docs/static/:file', async (request, reply) => {
    // a Map: `constructor` or `__proto__` must not find Object.prototype's members
    const type = ASSETS.get(request.params.file);
    if (!type) return reply.callNotFound();
    let body = cache.get(request.params.file);
    if (!body) {
      body = await readFile(join(staticDir, request.params.file));
      cache.set(request.params.file, body);
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
