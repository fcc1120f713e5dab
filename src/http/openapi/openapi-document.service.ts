import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { PUBLIC_ROUTE, REQUIRED_SCOPE } from '../auth/require-scope.decorator.js';
import { SCOPES, type Scope } from '../auth/scopes.js';
import { RATE_LIMIT_BUCKET } from '../rate-limit.js';
import { API_OPERATION, isBodySpec, isResponseSpec, type ApiOperationSpec, type ApiResponseSpec } from './api-operation.decorator.js';
import { correlationIdHeader, problemResponse, retryAfterHeader } from './problem.schema.js';

export interface DocumentedRoute {
  method: string;
  /** OpenAPI form: /api/v1/systems/{id}/readings */
  path: string;
  spec: ApiOperationSpec | undefined;
  scope: Scope | undefined;
  public: boolean;
  rateLimited: string | undefined;
}

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.OPTIONS]: 'options',
  [RequestMethod.HEAD]: 'head',
};

/** Every tag an operation may use, with its description (an unknown tag fails the document: see `document()`). */
export const API_TAGS: Record<string, string> = {
  ingest: 'Sensor readings in (JSON or CSV batches) and the rows that were quarantined',
  detect: 'One-off scoring of a sample or a window; nothing is recorded',
  systems: 'What is known per system: equipment, readings, health and the anomaly trend',
  anomalies: 'Windows the ensemble flagged, newest first; one anomaly in detail and operator feedback on it',
  analyses: 'Re-scoring a time range of a system, synchronously or as a job',
  audit: 'The raw event history of a system with its metadata',
  models: 'Model versions in the registry, their evaluation and feedback figures, comparison and promotion',
  stream: 'Server-sent events after the projections commit (anomaly, health, feedback), resumable by Last-Event-ID',
  operations: 'Liveness, readiness, metrics and this document',
};

/** Default scope of a route without @RequireScope (fail closed); mirrored by ApiKeyGuard. */
export function defaultScope(method: string): Scope {
  return method === 'get' || method === 'head' ? 'read' : 'admin';
}

function joinPath(...parts: (string | undefined)[]): string {
  const path = parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .map((seg) => (seg.startsWith(':') ? `{${seg.slice(1)}}` : seg))
    .join('/');
  return `/${path}`;
}

/**
 * Builds the OpenAPI 3.1 document from the routes Nest discovered and their @ApiOperation zod schemas.
 * A route without @ApiOperation is left out on purpose: test/http/openapi.test.ts then fails and names it.
 */
@Injectable()
export class OpenApiDocumentService {
  private cached: ReturnType<typeof createDocument> | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  routes(): DocumentedRoute[] {
    const routes: DocumentedRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!instance || !type) continue;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, type) ?? '/'].flat() as string[];
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as (...args: unknown[]) => unknown;
        const methodEnum = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (methodEnum === undefined) continue;
        const method = METHODS[methodEnum];
        if (!method) continue;
        const paths = [Reflect.getMetadata(PATH_METADATA, handler) ?? '/'].flat() as string[];
        const targets = [handler, type];
        for (const prefix of prefixes)
          for (const path of paths)
            routes.push({
              method,
              path: joinPath(prefix, path),
              spec: this.reflector.get<ApiOperationSpec | undefined>(API_OPERATION, handler),
              scope: this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets),
              public: this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets) === true,
              rateLimited: this.reflector.get<string | undefined>(RATE_LIMIT_BUCKET, handler),
            });
      }
    }
    return routes;
  }

  document(): ReturnType<typeof createDocument> {
    if (this.cached) return this.cached;
    const paths: ZodOpenApiPathsObject = {};
    const operationIds = new Set<string>();
    for (const route of this.routes()) {
      if (!route.spec) continue;
      // Generated clients name their methods after operationId and group them by tag: both are required.
      const where = `${route.method.toUpperCase()} ${route.path}`;
      const id = route.spec.operationId;
      if (!id || !/^[a-z][A-Za-z0-9]*$/.test(id)) throw new Error(`${where}: @ApiOperation needs an operationId (camelCase verb+noun)`);
      if (operationIds.has(id)) throw new Error(`${where}: operationId ${id} is used twice`);
      operationIds.add(id);
      for (const tag of route.spec.tags) if (!(tag in API_TAGS)) throw new Error(`${where}: tag ${tag} is not in API_TAGS`);
      const item = (paths[route.path] ??= {});
      (item as Record<string, ZodOpenApiOperationObject>)[route.method] = toOperation(route);
    }
    this.cached = createDocument(
      {
        openapi: '3.1.0',
        info: {
          title: 'Equipment anomaly platform API',
          version: '1.0.0',
          description:
            'Event-sourced anomaly detection for industrial equipment. Errors are RFC 9457 application/problem+json ' +
            '(types in docs/errors.md). Send `Authorization: Bearer <key>` or `X-API-Key: <key>`; each operation names ' +
            'its scope in `x-required-scope`. Send `X-Correlation-Id` to follow a request through events and logs.',
          // package.json says UNLICENSED: the API and its code are proprietary.
          license: { name: 'Proprietary (UNLICENSED): all rights reserved', identifier: 'LicenseRef-Proprietary' },
        },
        servers: [{ url: '/' }],
        tags: [...new Set(this.routes().flatMap((r) => r.spec?.tags ?? []))].sort().map((name) => ({ name, description: API_TAGS[name] })),
        paths,
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: `API key as a bearer token. Scopes: ${SCOPES.join(', ')}` },
            apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same API key in a header' },
          },
        },
      },
      // Only schemas named with .meta({ id }) become components; anonymous ones are inlined, so no `__schemaN`
      // names reach generated clients (test/http/openapi.test.ts checks both).
      { reused: 'inline' },
    );
    return this.cached;
  }
}

function toOperation(route: DocumentedRoute): ZodOpenApiOperationObject {
  const spec = route.spec!;
  const correlation = z.object({ 'X-Correlation-Id': correlationIdHeader.optional() });
  const responseHeaders = z.object({ 'X-Correlation-Id': correlationIdHeader });
  const responses: ZodOpenApiResponsesObject = {};
  const add = (status: number, r: z.ZodType | ApiResponseSpec) => {
    const s: ApiResponseSpec = isResponseSpec(r) ? r : { schema: r };
    const headers = s.headers ? responseHeaders.extend(s.headers.shape) : responseHeaders;
    responses[String(status) as `2${string}`] = {
      description: s.description ?? (status < 300 ? 'Success' : 'Error'),
      headers,
      ...(s.schema
        ? {
            content: {
              [s.contentType ?? 'application/json']: {
                schema: s.schema,
                ...(s.examples ? { examples: Object.fromEntries(Object.entries(s.examples).map(([k, value]) => [k, { value }])) } : {}),
              },
            },
          }
        : {}),
    };
  };
  for (const [status, r] of Object.entries(spec.responses)) add(Number(status), r);
  const standard: [number, ApiResponseSpec][] = [];
  if (spec.query || spec.params || spec.body || spec.headers) standard.push([400, problemResponse('The request is not valid; `errors` names each field')]);
  if (spec.body) {
    // Every route with a body: Fastify's body limit, and the ContentTypeGuard's answer to an undocumented type.
    standard.push([413, problemResponse('The body is larger than the route accepts')]);
    standard.push([415, problemResponse('The body is in a content type the route does not take; `errors` names `Content-Type`')]);
  }
  if (!route.public) {
    standard.push([401, problemResponse('No valid API key')]);
    standard.push([403, problemResponse(`The API key lacks the \`${route.scope ?? defaultScope(route.method)}\` scope`)]);
  }
  if (route.rateLimited) standard.push([429, { ...problemResponse('Rate limit of this API key exceeded'), headers: z.object({ 'Retry-After': retryAfterHeader }) }]);
  standard.push([500, problemResponse('Unexpected error; the service log has details under the correlation id')]);
  for (const [status, r] of standard) if (!(String(status) in responses)) add(status, r);

  let requestBody: ZodOpenApiOperationObject['requestBody'];
  if (spec.body) {
    const body = isBodySpec(spec.body) ? spec.body : { content: { 'application/json': spec.body } };
    requestBody = {
      required: body.required ?? true,
      ...(body.description ? { description: body.description } : {}),
      content: Object.fromEntries(
        Object.entries(body.content).map(([type, schema]) => {
          const examples = isBodySpec(spec.body) ? spec.body.examples?.[type] : undefined;
          return [type, { schema, ...(examples ? { examples: Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }])) } : {}) }];
        }),
      ),
    };
  }
  const scope = route.public ? undefined : (route.scope ?? defaultScope(route.method));
  return {
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(spec.operationId ? { operationId: spec.operationId } : {}),
    ...(spec.deprecated ? { deprecated: true } : {}),
    requestParams: {
      header: spec.headers ? correlation.extend(spec.headers.shape) : correlation,
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.params ? { path: spec.params } : {}),
    },
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: route.public ? [] : [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    ...(scope ? { 'x-required-scope': scope } : {}),
  } as ZodOpenApiOperationObject;
}
