import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../src/config/config.schema.js';
import { CONFIG } from '../../src/infrastructure/tokens.js';
import { startPrism, type PrismProxy } from './prism-proxy.js';

/**
 * The contract gate of the HTTP end-to-end suites: the requests a suite sends to a test app go through Stoplight
 * Prism (proxy mode, --errors, loopback; test/contract/prism-proxy.ts) in front of it, so an answer that violates the
 * OpenAPI document the app serves fails the test that caused it.
 *
 * Which apps: every app on embedded storage (PGlite, memory:// included): the suites that run on several backends go
 * through Prism on their PGlite run and directly on PostgreSQL/TimescaleDB, so each request is judged once per CI
 * run. `HTTP_CONTRACT=off` sends everything directly (for a quick local loop).
 *
 * Requests Prism does not forward (it rejects the request: the suites send malformed input on purpose; or the path is
 * not in the document, or Prism cannot proxy it) are sent directly, and then:
 * - the service must not accept a request the contract rejects (a 2xx to it fails: spec and service disagree);
 * - the service's answer is checked against the document in-process, by Prism's own validator (validateOutput of
 *   @stoplight/prism-http), so deliberately bad input still meets a documented error answer.
 * Streams (text/event-stream, read incrementally) are sent directly by the suites and are not judged here.
 */

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

export interface GateResponse {
  status: number;
  headers: Headers;
  text: string;
}

interface Gate {
  base: string;
  prism: PrismProxy;
  validate(method: string, path: string, res: GateResponse): string[];
}

const PRISM_ERROR = /"type"\s*:\s*"https:\/\/stoplight\.io\/prism\/errors#([A-Z_]+)"/;
/** Prism's answers that mean "this request is not valid per the document" (body or parameters, or security). */
const REQUEST_VIOLATIONS = new Set(['UNPROCESSABLE_ENTITY', 'UNAUTHORIZED']);

type Either<L, R> = { _tag: 'Left'; left: L } | { _tag: 'Right'; right: R };
type Operation = unknown;
type Route = (arg: { resources: Operation[]; input: { method: string; url: { path: string } } }) => Either<unknown, Operation>;
type ValidateOutput = (arg: {
  resource: Operation;
  element: { statusCode: number; headers: Record<string, string>; body: unknown };
}) => Either<{ path?: string[]; message: string }[], unknown>;

/** Generous: Prism forwards to the service, which may be busy on a loaded CI machine. */
const PRISM_ANSWER_MS = 60_000;

const gates = new WeakMap<NestFastifyApplication, Promise<Gate | undefined>>();
const require = createRequire(import.meta.url);

export function gateEnabled(app: NestFastifyApplication): boolean {
  if (process.env.HTTP_CONTRACT === 'off') return false;
  const config = app.get<AppConfig>(CONFIG, { strict: false });
  return !config.DATABASE_URL;
}

async function openGate(app: NestFastifyApplication): Promise<Gate> {
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const config = app.get<AppConfig>(CONFIG, { strict: false });
  const document = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
  // With AUTH=off the service requires no credentials, so the document this deployment honours has none either.
  if (config.AUTH === 'off') for (const ops of Object.values(document.paths)) for (const op of Object.values(ops)) if (op && typeof op === 'object') delete op.security;
  const dir = await mkdtemp(join(tmpdir(), 'contract-gate-'));
  const spec = join(dir, 'openapi.json');
  await writeFile(spec, JSON.stringify(document));
  const prism = await startPrism(spec, base);
  const { getHttpOperationsFromSpec } = require('@stoplight/prism-http') as typeof import('@stoplight/prism-http');
  // Prism's own router and response validator (the functions its proxy runs), for the answers it did not forward.
  const { validateOutput } = require('@stoplight/prism-http/dist/validator/index.js') as { validateOutput: ValidateOutput };
  const route = (require('@stoplight/prism-http/dist/router/index.js') as { default: Route }).default;
  const operations = await getHttpOperationsFromSpec(spec);
  // Prism stops with the app. Nest's application proxy ignores assignments and resolves methods at call time, so
  // this close is defined on the app and removes itself before the app's own close runs.
  Object.defineProperty(app, 'close', {
    configurable: true,
    writable: true,
    value: async () => {
      Reflect.deleteProperty(app, 'close');
      await prism.stop();
      await rm(dir, { recursive: true, force: true });
      return app.close();
    },
  });
  return {
    base,
    prism,
    validate(method, path, res) {
      const url = new URL(path, base);
      const matched = route({ resources: operations, input: { method: method.toLowerCase(), url: { path: url.pathname } } });
      if (matched._tag === 'Left') return []; // not an operation of the document (static files, unknown routes)
      const headers = Object.fromEntries(res.headers.entries());
      let body: unknown = res.text;
      if (/json/.test(headers['content-type'] ?? '') && res.text) body = JSON.parse(res.text);
      const result = validateOutput({ resource: matched.right, element: { statusCode: res.status, headers, body } });
      return result._tag === 'Left' ? result.left.map((d) => `${d.path?.join('.') ?? ''} ${d.message}`.trim()) : [];
    },
  };
}

async function read(res: Response): Promise<GateResponse> {
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function describe(method: string, path: string, init: RequestInit | undefined): string {
  const body = typeof init?.body === 'string' ? ` ${init.body.slice(0, 300)}${init.body.length > 300 ? '…' : ''}` : '';
  return `${method} ${path}${body}`;
}

/**
 * Sends one request to a test app: through its Prism gate when the app has one (see above), else directly.
 * Throws ContractViolation with the request, the answer and Prism's findings when the exchange breaks the contract.
 */
export async function contractFetch(app: NestFastifyApplication, path: string, init?: RequestInit): Promise<GateResponse> {
  let pending = gates.get(app);
  if (!pending) {
    pending = gateEnabled(app) ? openGate(app) : Promise.resolve(undefined);
    gates.set(app, pending);
  }
  const gate = await pending;
  const base = gate?.base ?? (await app.getUrl()).replace('[::1]', '127.0.0.1');
  if (!gate) return read(await fetch(base + path, init));

  const method = (init?.method ?? 'GET').toUpperCase();
  let viaPrism: GateResponse;
  try {
    viaPrism = await read(await fetch(gate.prism.url + path, { ...init, signal: init?.signal ?? AbortSignal.timeout(PRISM_ANSWER_MS) }));
  } catch (error) {
    throw new Error(`Prism gave no answer to ${describe(method, path, init)} (${String(error)}); its log ends:\n${gate.prism.log().slice(-3000)}`);
  }
  // Prism's own answers carry its problem type, or (when its body parser gives up, e.g. on malformed JSON) at least
  // lack the X-Correlation-Id the service sets on every answer.
  const prismError = PRISM_ERROR.exec(viaPrism.text)?.[1] ?? (viaPrism.status >= 400 && !viaPrism.headers.has('x-correlation-id') ? 'NOT_FORWARDED' : undefined);
  const slViolations = viaPrism.headers.get('sl-violations');
  if (prismError === 'VIOLATIONS' || (!prismError && slViolations))
    throw new ContractViolation(
      `Prism found a contract violation in ${describe(method, path, init)}\n→ ${viaPrism.status}: ${(slViolations ?? '') || viaPrism.text.slice(0, 3000)}`,
    );
  if (!prismError) return viaPrism;

  // Prism answered itself without forwarding: judge the service's own answer to the same request.
  const direct = await read(await fetch(base + path, init));
  if (REQUEST_VIOLATIONS.has(prismError) && direct.status < 400)
    throw new ContractViolation(
      `the service answered ${direct.status} to a request the contract rejects (${describe(method, path, init)}); Prism: ${viaPrism.text.slice(0, 3000)}`,
    );
  const violations = gate.validate(method, path, direct);
  if (violations.length)
    throw new ContractViolation(`the answer to ${describe(method, path, init)} violates the contract:\n→ ${direct.status} ${direct.text.slice(0, 500)}\n- ${violations.join('\n- ')}`);
  return direct;
}
