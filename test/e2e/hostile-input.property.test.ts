import * as fs from 'node:fs';
import { request } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import type { LocalRoute } from '../../local/model';
import type { LocalRuntime } from '../../local/runtime';
import { startLocalRuntime } from '../../local/runtime';
import { signIn } from '../../local/token';

// Property-based, against the whole local runtime: every route of the reference system gets a few hundred
// hostile requests (odd header and query names and values, random and invalid bodies, lone surrogates, long
// and encoded path segments, wrong and unknown methods). Each request carries at least one flaw that makes it
// invalid by construction (no or a forged credential, a method or path no route has, a body that cannot pass
// validation, a size over API Gateway's limits), so none is a legitimate write: every answer must be a 4xx in
// the documented error shape, and no stored item may change.

const SEED = 20_261_122;
const RUNS_PER_ROUTE = 400;

let runtime: LocalRuntime;
let baseUrl: URL;
let customer: string;
let admin: string;
const lines: string[] = [];

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/** What one generated request sends. */
interface HostileRequest {
  readonly method: string;
  /** Percent-encoded path and query, as sent on the request line. */
  readonly target: string;
  /** Raw header pairs (names may repeat). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Which flaw makes the request invalid (for the counterexample report). */
  readonly flaw: string;
}

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    assemblyDir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-hostile-')),
    log: (line) => lines.push(line),
  });
  baseUrl = new URL(runtime.apiUrl);
  expect(baseUrl.hostname).toBe('127.0.0.1');
  const identity = runtime.system.identity!;
  customer = await signIn(runtime.emulator, identity.userPoolClientId, 'demo@example.com', 'Demo-Passw0rd!');
  admin = await signIn(runtime.emulator, identity.userPoolClientId, 'admin@example.com', 'Admin-Passw0rd!');
}, 240_000);

afterAll(async () => {
  if (process.env.HOSTILE_LOG) fs.writeFileSync(process.env.HOSTILE_LOG, lines.join('\n'));
  await runtime?.stop();
}, 60_000);

// --- Sending -----------------------------------------------------------------------------------------------

/** One request on its own connection, exactly as generated (Node's client does not normalise the target). */
function send(hostile: HostileRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      {
        host: '127.0.0.1',
        port: baseUrl.port,
        method: hostile.method,
        path: hostile.target,
        // Raw pairs keep repeated and odd names as generated; Node adds no Host to them.
        headers: [
          ['Host', baseUrl.host],
          ...(hostile.body ? [['Content-Length', String(hostile.body.length)]] : []),
          ...hostile.headers,
        ].flat() as string[],
        agent: false,
        timeout: 60_000,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    // The gateway may answer (413, 431) before it has read everything: a write error after that is expected.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(hostile.body);
  });
}

/** The answer is a 4xx with `{"error":{"code","message","requestId"}}` as JSON; else why not. */
function documentedError(reply: Reply): string | undefined {
  if (reply.status < 400 || reply.status > 499) return `status ${reply.status}`;
  if (!reply.contentType.startsWith('application/json')) return `content-type ${reply.contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return 'body is not JSON';
  }
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (
    typeof error !== 'object' ||
    error === null ||
    typeof error.code !== 'string' ||
    typeof error.message !== 'string' ||
    typeof error.requestId !== 'string'
  ) {
    return 'not {"error":{"code","message","requestId"}}';
  }
  return undefined;
}

// --- Stored items -----------------------------------------------------------------------------------------

async function snapshotTables(): Promise<Record<string, string[]>> {
  const ddb = new DynamoDBClient({
    endpoint: runtime.emulator.endpoint,
    region: runtime.emulator.region,
    credentials: runtime.emulator,
  });
  try {
    const tables: string[] = [];
    let start: string | undefined;
    do {
      const page = await ddb.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      tables.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start);
    const snapshot: Record<string, string[]> = {};
    for (const table of tables.sort()) {
      const items: Array<Record<string, AttributeValue>> = [];
      let key: Record<string, AttributeValue> | undefined;
      do {
        const page = await ddb.send(
          new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: key }),
        );
        items.push(...(page.Items ?? []));
        key = page.LastEvaluatedKey;
      } while (key);
      snapshot[table] = items.map((item) => canonical(item)).sort();
    }
    return snapshot;
  } finally {
    ddb.destroy();
  }
}

/** JSON with object keys sorted, so equal items compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

// --- Generators -------------------------------------------------------------------------------------------

const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
  'length',
  'then',
];
/** Headers the request's shape depends on: left to the client (or to the flaw that sets them). */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'authorization',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
]);
const API_GATEWAY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Methods API Gateway has no route for: some Node's parser refuses, some it passes on. */
const OTHER_METHODS = ['FOO', 'PROPFIND', 'TRACE', 'MKCOL', 'PURGE', 'SEARCH', 'M-SEARCH', 'LOCK', 'BREW'];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((cu) => String.fromCharCode(cu));
/** Any text: code points from all planes, lone surrogates, controls, the odd `%`. */
const anyText = (maxLength: number) =>
  fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
        { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }) },
        { weight: 1, arbitrary: loneSurrogate },
        {
          weight: 1,
          arbitrary: fc.constantFrom('%', '%ZZ', '../', '\0', '\r\n', '"', '\\u0000', '{{', '$context'),
        },
      ),
      { maxLength: Math.max(1, Math.ceil(maxLength / 4)) },
    )
    .map((parts) => parts.join('').slice(0, maxLength));

/**
 * Percent-encodes text for a URL as a client would send it; a lone surrogate becomes the (invalid) UTF-8
 * bytes of its code unit, and `raw` leaves some characters as they are (`%` escapes a decoder may refuse).
 */
function encode(text: string, raw = false): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const cu = text.charCodeAt(i);
    const pair = cu >= 0xd800 && cu <= 0xdbff && i + 1 < text.length;
    const next = pair ? text.charCodeAt(i + 1) : 0;
    if (pair && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (cu >= 0xd800 && cu <= 0xdfff) {
      out += [0xe0 | (cu >> 12), 0x80 | ((cu >> 6) & 0x3f), 0x80 | (cu & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else if (raw && text[i] === '%') {
      out += '%';
    } else {
      out += encodeURIComponent(text[i]);
    }
  }
  return out;
}

const headerName = fc.oneof(
  fc.constantFrom(
    ...HOSTILE_NAMES,
    'x-correlation-id',
    'content-type',
    'accept',
    'cookie',
    'X-Forwarded-For',
  ),
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/),
);
/** What Node's client lets through in a header value: tab, visible ASCII, latin1. */
const headerValue = fc
  .array(
    fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9)),
    {
      maxLength: 200,
    },
  )
  .map((codes) => String.fromCharCode(...codes).trim());
/**
 * Random headers, usually after a User-Agent (the web ACL blocks requests without one, which would keep most
 * requests from reaching the gateway's and the handlers' checks).
 */
const noiseHeaders = fc
  .tuple(
    fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }),
    fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  )
  .map(([pairs, userAgent]) => [
    ...(userAgent ? [['User-Agent', 'hostile-input-test/1.0'] as [string, string]] : []),
    ...pairs.filter(([name]) => !RESERVED_HEADERS.has(name.toLowerCase())),
  ]);

const queryString = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_NAMES), anyText(30)), anyText(200), fc.boolean()), {
    maxLength: 8,
  })
  .map((pairs) => pairs.map(([name, value, raw]) => `${encode(name, raw)}=${encode(value, raw)}`).join('&'));

/** A value for a `{param}`: anything from empty to 3,000 characters, encoded or with raw escapes. */
const segment = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(anyText(60), fc.boolean()).map(([text, raw]) => encode(text, raw) || 'x'),
  },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2F', '%2e%2e', '%00', '%', '%ZZ', '%ED%A0%80', '~') },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 3_000 }).map((n) => 'S'.repeat(n)) },
);

/** A JSON text with a lone surrogate somewhere (as `\udXXX`, so JSON.parse yields the lone surrogate). */
const jsonWithSurrogate = fc
  .tuple(fc.jsonValue({ maxDepth: 3 }), loneSurrogate, fc.boolean())
  .map(([value, surrogate, asKey]) =>
    JSON.stringify(
      asKey
        ? { [`k${surrogate}`]: value, displayName: 'x', email: 'a@example.com' }
        : {
            displayName: `D${surrogate}`,
            email: `a${surrogate}@example.com`,
            lines: [{ sku: `S${surrogate}` }],
            value,
          },
    ),
  );
/** A body that cannot pass any route's validation: not JSON, not an object, or with a lone surrogate. */
const invalidBody: fc.Arbitrary<Buffer> = fc.oneof(
  jsonWithSurrogate.map((text) => Buffer.from(text)),
  fc
    .oneof(
      anyText(300),
      fc.constantFrom('{', '{"displayName":', '[1,', '{"a":1}}', 'nul', '"\\ud800', '{"email":"a@b"'),
    )
    .filter((text) => !parses(text))
    .map((text) => Buffer.from(text)),
  fc
    .uint8Array({ minLength: 1, maxLength: 400 })
    .map((bytes) => Buffer.from(bytes))
    .filter((bytes) => !parses(bytes.toString('utf8'))),
  fc
    .oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.double(), fc.string(), fc.boolean(), fc.constant(null))
    .map((value) => Buffer.from(JSON.stringify(value))),
);
/** Any body at all (random JSON included): only sent with another flaw. */
const anyBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  fc.constant(undefined),
  invalidBody,
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value))),
);

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A forged credential: none, junk, a tampered token, or a SigV4 header with a made-up signature. */
const forgedCredential = (token: string): fc.Arbitrary<Array<[string, string]>> =>
  fc.oneof(
    fc.constant([] as Array<[string, string]>),
    headerValue.filter((v) => v.length > 0).map((v): Array<[string, string]> => [['Authorization', v]]),
    fc.tuple(fc.nat(), fc.constantFrom('A', 'b', '-', '_')).map(([at, c]) => {
      // Change one character inside the payload (not its last, whose low bits base64url may ignore): the
      // signature no longer matches.
      const start = token.indexOf('.') + 1;
      const end = token.indexOf('.', start) - 1;
      const i = start + (at % (end - start));
      const tampered = token.slice(0, i) + (token[i] === c ? 'Z' : c) + token.slice(i + 1);
      return [['Authorization', `Bearer ${tampered}`]] as Array<[string, string]>;
    }),
    fc.stringMatching(/^[0-9a-f]{64}$/).map((signature): Array<[string, string]> => [
      [
        'Authorization',
        `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
      ],
      ['X-Amz-Date', '20260101T000000Z'],
    ]),
  );

/** The route's resource path with every `{param}` replaced by a generated segment. */
const filledPath = (route: LocalRoute) => {
  const parts = route.resourcePath.split('/').filter(Boolean);
  return fc
    .tuple(...parts.map((p) => (/^\{.+\}$/.test(p) ? segment : fc.constant(p))))
    .map((filled) => `/${route.service}/${filled.join('/')}`);
};

/** Every generated request for `route`: one flaw that makes it invalid, plus noise everywhere else. */
function hostileRequests(route: LocalRoute, routes: readonly LocalRoute[]): fc.Arbitrary<HostileRequest> {
  const methodsHere = new Set(
    routes
      .filter((r) => r.service === route.service && r.resourcePath === route.resourcePath)
      .map((r) => r.method.toUpperCase()),
  );
  const wrongMethods = [...API_GATEWAY_METHODS, ...OTHER_METHODS].filter((m) => !methodsHere.has(m));
  // Whether the path with one more segment could be another route's (then only an unknown service will do).
  const parts = route.resourcePath.split('/').filter(Boolean);
  const extended = [...parts, 'zz-'];
  const extraMayMatch = routes.some((r) => {
    if (r.service !== route.service) return false;
    const theirs = r.resourcePath.split('/').filter(Boolean);
    return (
      theirs.length === extended.length &&
      theirs.every((t, i) => /^\{.+\}$/.test(t) || /^\{.+\}$/.test(extended[i]) || t === extended[i])
    );
  });
  const token = route.resourcePath.startsWith('/inventory') ? admin : customer;
  const credential = fc.oneof(
    forgedCredential(token),
    fc.constant([['Authorization', `Bearer ${token}`]] as Array<[string, string]>),
  );
  const common = fc.record({
    path: filledPath(route),
    query: queryString,
    noise: noiseHeaders,
    body: anyBody,
  });
  const target = (p: string, q: string) => (q ? `${p}?${q}` : p);

  const flaws: Array<fc.Arbitrary<HostileRequest>> = [
    // A method the resource does not have (or one API Gateway has no route for at all).
    fc.tuple(common, fc.constantFrom(...wrongMethods), credential).map(([c, method, auth]) => ({
      method,
      target: target(c.path, c.query),
      headers: [...c.noise, ...auth],
      body: c.body,
      flaw: `method ${method}`,
    })),
    // A path no route has: an extra segment, or a service that does not exist.
    fc
      .tuple(common, segment, fc.boolean(), credential)
      .map(([c, extra, unknown, auth]) => ({ c, extra, unknownService: unknown || extraMayMatch, auth }))
      .map(({ c, extra, unknownService, auth }) => ({
        method: route.method,
        target: target(unknownService ? `/no-such-${c.path.slice(1)}` : `${c.path}/zz-${extra}`, c.query),
        headers: [...c.noise, ...auth],
        body: c.body,
        flaw: unknownService ? 'unknown service' : 'extra path segment',
      })),
    // Over API Gateway's limits: URL over 10,240 characters, header values over 10,240 bytes.
    fc
      .tuple(common, fc.integer({ min: 10_300, max: 30_000 }), fc.boolean(), credential)
      .map(([c, size, inUrl, auth]) => ({
        method: route.method,
        target: inUrl ? target(c.path, `q=${'L'.repeat(size)}&${c.query}`) : target(c.path, c.query),
        headers: inUrl
          ? [...c.noise, ...auth]
          : [...c.noise, ...auth, ['x-padding', 'P'.repeat(size)] as [string, string]],
        body: c.body,
        flaw: inUrl ? `URL of ${size}+ characters` : `header value of ${size} bytes`,
      })),
  ];
  if (route.authorization.type !== 'NONE') {
    // No or a forged credential on a route that needs one.
    flaws.push(
      fc.tuple(common, forgedCredential(token)).map(([c, auth]) => ({
        method: route.method,
        target: target(c.path, c.query),
        headers: [...c.noise, ...auth],
        body: c.body,
        flaw: `credential ${auth.length === 0 ? 'missing' : 'forged'}`,
      })),
    );
  }
  if (route.requestSchema) {
    // A valid caller, a body no validation can pass.
    flaws.push(
      fc.tuple(common, invalidBody, fc.boolean()).map(([c, body, json]) => ({
        method: route.method,
        target: target(c.path, c.query),
        headers: [
          ...c.noise.filter(([n]) => n.toLowerCase() !== 'content-type'),
          ['Authorization', `Bearer ${token}`] as [string, string],
          ['Content-Type', json ? 'application/json' : 'text/plain'] as [string, string],
        ],
        body,
        flaw: 'invalid body',
      })),
    );
  }
  if (route.requiredParameters.some((p) => p.startsWith('method.request.querystring.'))) {
    // A valid caller without a required query parameter.
    const required = route.requiredParameters
      .filter((p) => p.startsWith('method.request.querystring.'))
      .map((p) => p.slice('method.request.querystring.'.length));
    flaws.push(
      common.map((c) => ({
        method: route.method,
        target: target(
          c.path,
          c.query
            .split('&')
            .filter((pair) => !required.some((name) => pair.split('=')[0] === encode(name)))
            .filter((pair) => !required.some((name) => safeDecode(pair.split('=')[0]) === name))
            .join('&'),
        ),
        headers: [...c.noise, ['Authorization', `Bearer ${token}`] as [string, string]],
        body: c.body,
        flaw: `no ${required.join(', ')} query parameter`,
      })),
    );
  }
  return fc.oneof(...flaws);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The request, with long runs shortened, for a failure message. */
function describeRequest(hostile: HostileRequest): string {
  const short = (text: string) => text.replace(/(.)\1{40,}/g, (run, c: string) => `${c}…(${run.length}×)`);
  return JSON.stringify({
    method: hostile.method,
    target: short(hostile.target),
    headers: hostile.headers.map(([n, v]) => [n, short(v)]),
    body: hostile.body === undefined ? undefined : short(hostile.body.toString('utf8').slice(0, 500)),
  });
}

// --- The property -----------------------------------------------------------------------------------------

describe('hostile input against every route of the local runtime', () => {
  it(`answers ${RUNS_PER_ROUTE} hostile requests per route with a documented 4xx and changes no stored item`, async () => {
    const { routes } = runtime.system;
    expect(routes.length).toBeGreaterThanOrEqual(10);
    // Settle first: nothing may be left in flight from start-up (seeding, outbox, queues).
    let before = await snapshotTables();
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const again = await snapshotTables();
      if (canonical(again) === canonical(before)) break;
      before = again;
    }
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(3);

    const statuses = new Map<number, number>();
    const started = Date.now();
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(hostileRequests(route, routes), async (hostile) => {
          const reply = await send(hostile);
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          const wrong = documentedError(reply);
          if (wrong) {
            throw new Error(
              `${route.method} ${route.service}${route.resourcePath} (${hostile.flaw}): ${wrong}: ` +
                `${reply.status} ${reply.text.slice(0, 300)}\n${describeRequest(hostile)}`,
            );
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    }
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(routes.length * RUNS_PER_ROUTE);
    expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
    lines.push(
      `hostile requests: ${total} in ${Date.now() - started} ms, statuses ${JSON.stringify([...statuses])}`,
    );

    const after = await snapshotTables();
    expect(after).toEqual(before);
  }, 600_000);
});
