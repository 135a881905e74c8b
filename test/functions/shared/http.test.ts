import * as z from 'zod/mini';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { httpRoute } from '../../../functions/shared/http';
import type { HttpRequest } from '../../../functions/shared/http';
import { apiEvent, lambdaContext, userClaims } from '../api-event';
import type { EventOptions } from '../api-event';

const LONE_HIGH = '\ud800';
const LONE_LOW = '\udc00';

const seen: Array<HttpRequest<unknown>> = [];
/** A route as the services write them: a zod body, free-form strings in it, path parameters. */
const handler = httpRoute(
  {
    body: z.object({ displayName: z.string(), tags: z.optional(z.record(z.string(), z.unknown())) }),
    pathParameters: z.object({ id: z.string() }),
  },
  async (request) => {
    seen.push(request);
    return { statusCode: 200, body: { ok: true } };
  },
);
/** A route without a body schema: only path parameters and the query. */
const listing = httpRoute({ authenticated: false }, async (request) => {
  seen.push(request);
  return { statusCode: 200, body: { ok: true } };
});

async function call(
  route: typeof handler,
  options: EventOptions,
): Promise<{ status: number; body: { error?: { code: string; message: string; requestId: string } } }> {
  const result = (await route(apiEvent(options), lambdaContext)) as APIGatewayProxyResult;
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

const claims = userClaims('user-1');
const valid: EventOptions = {
  method: 'POST',
  path: '/things/t-1',
  pathParameters: { id: 't-1' },
  body: { displayName: 'Ünïcødé 👍' },
  claims,
};

beforeEach(() => {
  seen.length = 0;
});

describe('httpRoute', () => {
  it('passes well-formed Unicode through (astral characters included)', async () => {
    const reply = await call(handler, valid);
    expect(reply.status).toBe(200);
    expect(seen[0].body).toEqual({ displayName: 'Ünïcødé 👍' });
  });

  it.each([
    ['a lone high surrogate in a body string', { displayName: `Demo${LONE_HIGH}` }],
    ['a lone low surrogate in a body string', { displayName: `${LONE_LOW}x` }],
    ['a reversed surrogate pair', { displayName: `${LONE_LOW}${LONE_HIGH}` }],
    ['a lone surrogate deep in the body', { displayName: 'ok', tags: { a: [{ b: [`x${LONE_HIGH}`] }] } }],
    ['a lone surrogate in a body key', { displayName: 'ok', tags: { [`k${LONE_HIGH}`]: 1 } }],
  ])('answers 400 VALIDATION_FAILED for %s', async (_what, body) => {
    const reply = await call(handler, { ...valid, body });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ code: 'VALIDATION_FAILED', requestId: 'req-123' });
    expect(typeof reply.body.error?.message).toBe('string');
    expect(seen).toHaveLength(0);
  });

  it('answers 400 VALIDATION_FAILED for JSON text escaping a lone surrogate', async () => {
    const rawBody = '{"displayName":"Demo\\ud800"}';
    expect(JSON.parse(rawBody).displayName).toBe(`Demo${LONE_HIGH}`);
    const reply = await call(handler, { ...valid, rawBody });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.code).toBe('VALIDATION_FAILED');
    expect(seen).toHaveLength(0);
  });

  it('answers 400 for a deeply nested body without overflowing the stack', async () => {
    const depth = 200_000;
    const rawBody = `{"displayName":"x","tags":{"a":${'['.repeat(depth)}"\\udc00"${']'.repeat(depth)}}}`;
    const reply = await call(handler, { ...valid, rawBody });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.code).toBe('VALIDATION_FAILED');
  });

  it('answers 400 VALIDATION_FAILED for a lone surrogate in a path parameter', async () => {
    const reply = await call(handler, { ...valid, pathParameters: { id: `t${LONE_HIGH}` } });
    expect(reply.status).toBe(400);
    expect(reply.body.error?.code).toBe('VALIDATION_FAILED');
    const unchecked = await call(listing, { pathParameters: { id: `t${LONE_LOW}` } });
    expect(unchecked.status).toBe(400);
    expect(unchecked.body.error?.code).toBe('VALIDATION_FAILED');
    expect(seen).toHaveLength(0);
  });

  it('answers 400 VALIDATION_FAILED for a lone surrogate in a query value or name', async () => {
    for (const queryStringParameters of [{ q: `a${LONE_HIGH}` }, { [`q${LONE_LOW}`]: 'a' }] as Array<
      Record<string, string>
    >) {
      const reply = await call(listing, { queryStringParameters });
      expect(reply.status).toBe(400);
      expect(reply.body.error?.code).toBe('VALIDATION_FAILED');
    }
    expect(seen).toHaveLength(0);
  });

  it('reads query and path names like __proto__ as plain names', async () => {
    const reply = await call(listing, {
      queryStringParameters: JSON.parse('{"__proto__":"x","constructor":"y","toString":"z"}'),
    });
    expect(reply.status).toBe(200);
    const query = seen[0].queryParameters;
    expect(Object.hasOwn(query, '__proto__')).toBe(true);
    expect(query['__proto__']).toBe('x');
    expect(query.constructor).toBe('y');
    expect(query.toString).toBe('z');
  });

  it.each([
    ['a quote and a backslash', 'abc"\\x'],
    ['a control character', 'abc\nx'],
    ['200 characters', 'a'.repeat(200)],
  ])(
    'takes the request id as correlation id when the header holds %s (it goes into event envelopes)',
    async (_what, value) => {
      const result = (await handler(
        apiEvent({ ...valid, headers: { 'x-correlation-id': value } }),
        lambdaContext,
      )) as APIGatewayProxyResult;
      expect(result.statusCode).toBe(200);
      expect(result.headers?.['x-correlation-id']).toBe('req-123');
      expect(seen[0].correlationId).toBe('req-123');
    },
  );

  it('keeps a correlation id made of safe characters', async () => {
    const result = (await handler(
      apiEvent({ ...valid, headers: { 'x-correlation-id': 'order-42.retry_1:a' } }),
      lambdaContext,
    )) as APIGatewayProxyResult;
    expect(result.headers?.['x-correlation-id']).toBe('order-42.retry_1:a');
  });
});
