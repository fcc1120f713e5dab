/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { z } from 'zod';
import { isBodySpec, isResponseSpec } from '../../src/http/openapi/api-operation.decorator.js';
import { OpenApiDocumentService } from '../../src/http/openapi/openapi-document.service.js';
import type { RouteTable } from '../../src/http/route-table.js';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';
import { RESPONSE_MISMATCH } from '../../src/http/openapi/response-validation.interceptor.js';
import { settle } from '../support/test-app.js';
import { cycleRows, cycleSamples } from './hydraulic-cycles.js';
import { captureLogs } from './log-capture.js';
import { listen, type HttpResponse } from './http-test-client.js';

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; 'x-required-scope'?: string }>> };

/** Routes that are not API operations: the docs UI, the operator console and their assets. */
const UNDOCUMENTED = [/^\/docs(\/|$)/, /^\/$/, /^\/assets\//];

describe('OpenAPI document', () => {
  let app: NestFastifyApplication;
  let http: (path: string, init?: RequestInit) => Promise<HttpResponse>;
  let doc: Doc;
  const logs = captureLogs('warn');

  beforeAll(async () => {
    app = await createApp(loadConfig({ DATA_DIR: 'memory://', AUTH: 'off' }), logs.logger);
    http = await listen(app);
    const res = await http('/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route Fastify serves', () => {
    const table = (app.getHttpAdapter().getInstance() as unknown as { routeTable: RouteTable }).routeTable;
    const served = table
      .list()
      .filter((r) => r.method !== 'HEAD' && !UNDOCUMENTED.some((p) => p.test(r.url)))
      .map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/$/, '') || '/'}`);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const missing = [...new Set(served)].filter((r) => !documented.has(r)).sort();
    // A failure names each route without @ApiOperation (see docs/api-conventions.md).
    expect(missing).toEqual([]);
    for (const expected of ['POST /api/v1/ingest', 'GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /openapi.json'])
      expect(documented).toContain(expected);
  });

  it('gives every operation a scope or marks it public, and problem+json error responses', () => {
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        const open = /^\/(health|metrics|openapi\.json)/.test(path);
        expect([`${method} ${path}`, op['x-required-scope'] === undefined]).toEqual([`${method} ${path}`, open]);
        const problem = op.responses['500'] as { content: Record<string, unknown> };
        expect(Object.keys(problem.content)).toEqual(['application/problem+json']);
      }
  });

  it('names what generated clients see: an operationId per operation, described tags, named schemas, a licence', () => {
    const full = doc as Doc & {
      info: { license?: { name: string } };
      tags: { name: string; description?: string }[];
      components: { schemas: Record<string, unknown> };
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ where: `${method} ${path}`, id: (op as { operationId?: string }).operationId })),
    );
    expect(ops.filter((o) => !o.id || !/^[a-z][A-Za-z0-9]*$/.test(o.id)).map((o) => o.where)).toEqual([]);
    expect(new Set(ops.map((o) => o.id)).size).toBe(ops.length);
    expect(full.tags.filter((t) => !t.description).map((t) => t.name)).toEqual([]);
    expect(full.info.license?.name).toBeTruthy();
    // zod-openapi names a reused schema without an id `__schemaN`: every component must have a real name.
    expect(Object.keys(full.components.schemas).filter((n) => !/^[A-Z][A-Za-z0-9]*$/.test(n))).toEqual([]);
    expect(Object.keys(full.components.schemas)).toEqual(expect.arrayContaining(['ReadingRow', 'Problem', 'CorrelationId', 'SystemId']));
  });

  it('refuses to build a document when an operation has no operationId', () => {
    const service = app.get(OpenApiDocumentService);
    const routes = service.routes();
    const broken = routes.map((r) => (r.spec && r.path === '/api/v1/ingest' ? { ...r, spec: { ...r.spec, operationId: undefined } } : r));
    const fresh = Object.create(OpenApiDocumentService.prototype) as OpenApiDocumentService;
    Object.assign(fresh, { routes: () => broken });
    expect(() => fresh.document()).toThrow('POST /api/v1/ingest: @ApiOperation needs an operationId');
  });

  it('has only examples that validate against their zod schema', () => {
    const routes = app.get(OpenApiDocumentService).routes().filter((r) => r.spec);
    let checked = 0;
    const failures: string[] = [];
    const check = (where: string, schema: z.ZodType | undefined, examples: Record<string, unknown> | undefined) => {
      for (const [name, value] of Object.entries(examples ?? {})) {
        checked++;
        const result = schema?.safeParse(value);
        if (!result?.success) failures.push(`${where} example "${name}": ${result?.error.message ?? 'no schema'}`);
      }
    };
    for (const route of routes) {
      const spec = route.spec!;
      if (isBodySpec(spec.body))
        for (const [type, schema] of Object.entries(spec.body.content)) check(`${route.method} ${route.path} body ${type}`, schema, spec.body.examples?.[type]);
      for (const [status, r] of Object.entries(spec.responses))
        if (isResponseSpec(r)) check(`${route.method} ${route.path} ${status}`, r.schema, r.examples);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });

  it('answers with bodies that match the documented response schemas (every GET, ingest, detect)', async () => {
    const json = { 'content-type': 'application/json' };
    const start = Date.UTC(2024, 3, 1);
    expect((await http('/api/v1/ingest', { method: 'POST', headers: json, body: JSON.stringify(cycleRows(0, 3, start, 'o-rig')) })).status).toBe(200);
    await settle(app);
    const called: string[] = [];
    if (doc.paths['/api/v1/detect']?.post) {
      const res = await http('/api/v1/detect', { method: 'POST', headers: json, body: JSON.stringify({ samples: cycleSamples(0, start) }) });
      expect(res.status).toBe(200);
      called.push('POST /api/v1/detect');
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!item.get || path === '/openapi.json' || path === '/metrics' || path === '/api/v1/stream') continue;
      const res = await http(path.replace(/\{[^}]+\}/g, 'o-rig'));
      if (res.status < 300) called.push(`GET ${path}`);
    }
    expect(called.length).toBeGreaterThan(5);
    // ResponseValidationInterceptor (NODE_ENV=test) logs each mismatch with the route and the fields.
    const mismatches = logs.lines().filter((l) => l.msg === RESPONSE_MISMATCH).map((l) => ({ route: l.route, issues: l.issues }));
    expect(mismatches).toEqual([]);
  });

  it('serves the interactive docs page and its assets locally', async () => {
    const page = await http('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/docs/static/swagger-ui-bundle.js');
    const init = await http('/docs/static/swagger-initializer.js');
    expect(init.text).toContain("url: '/openapi.json'");
    const bundle = await http('/docs/static/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});
