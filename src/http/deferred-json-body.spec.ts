import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { DeferredJsonBody, jsonBodyParser } from './deferred-json-body.js';

/**
 * A route marked deferJsonBody gets the bytes and parses them later; it must then accept and refuse exactly what
 * an ordinary route's parser does, with the same errors.
 */
describe('jsonBodyParser', () => {
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    app = Fastify();
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonBodyParser(app) as never);
    app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _req, reply) =>
      reply.status(error.statusCode ?? 500).send({ code: error.code, message: error.message }),
    );
    app.post('/ordinary', async (req) => ({ deferred: req.body instanceof DeferredJsonBody, body: req.body }));
    app.post('/deferred', { config: { deferJsonBody: true } }, async (req) => {
      const body = req.body as DeferredJsonBody;
      return { deferred: body instanceof DeferredJsonBody, bytes: body.bytes.length, body: body.parse() };
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app?.close());

  const post = async (path: string, payload: string) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('hands the marked route the bytes, unparsed, and parses them on request as the other routes do', async () => {
    const payload = '{"a": [1, 2.5, "x"], "b": {"c": null}}';
    const ordinary = await post('/ordinary', payload);
    const deferred = await post('/deferred', payload);
    expect(ordinary).toEqual({ status: 200, body: { deferred: false, body: JSON.parse(payload) } });
    expect(deferred).toEqual({ status: 200, body: { deferred: true, bytes: payload.length, body: JSON.parse(payload) } });
  });

  it.each([
    ['malformed JSON', '{"a": ['],
    ['an empty body', ''],
    ['a __proto__ key', '{"__proto__": {"polluted": true}}'],
    ['a constructor.prototype key', '{"constructor": {"prototype": {"polluted": true}}}'],
  ])('refuses %s with the error an ordinary route gives', async (_name, payload) => {
    const ordinary = await post('/ordinary', payload);
    expect(ordinary.status).toBe(400);
    expect(await post('/deferred', payload)).toEqual(ordinary);
  });
});
