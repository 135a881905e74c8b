/**
 * Warm-invocation cost of the shared middleware stack (`httpRoute`: middy, Powertools Tracer, Logger and
 * Metrics, correlation id, JSON parsing, zod validation, error mapping) against a bare handler doing the
 * same work by hand: parse the body, validate it with the same schema, build the same response.
 */
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { SERVICE_FUNCTION_ESBUILD_OPTIONS } from '../lib/constructs/function-bundler';
import type { SectionResult } from './report';
import { lambdaLikeEnvironment, runAlone } from './report';
import { fixed, median } from './stats';

const ROOT = path.join(__dirname, '..');
const WORK = path.join(ROOT, 'bench', '.work', 'middleware');
// Re-set from measurement when tracing moved to Powertools Tracer (issue 14): 165.5 µs unsampled on a quiet
// machine (the X-Ray SDK's cls-hooked async hooks run on every promise of a traced function), plus about 20%.
const BUDGET_MICROSECONDS = 200;
const TRACE = 'Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8';

export interface MiddlewareOptions {
  /** Calls per timed round. @default 10000 */
  readonly calls?: number;
  /** Timed rounds per handler (the median round is reported). @default 5 */
  readonly rounds?: number;
}

interface Measurement {
  readonly microsecondsPerCall: number[];
  readonly statusCode: number;
}

export async function middlewareSection(options: MiddlewareOptions = {}): Promise<SectionResult> {
  const calls = options.calls ?? 10_000;
  const rounds = options.rounds ?? 5;
  const bundles = buildHandlers();
  const sink = await udpSink();
  try {
    const bare = measure(bundles.bare, calls, rounds, {});
    // Tracing is on in both (lambdaLikeEnvironment): Lambda decides per invocation whether it is sampled.
    const daemon = { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${sink.port}` };
    const stacked = measure(bundles.stacked, calls, rounds, {
      ...daemon,
      _X_AMZN_TRACE_ID: `${TRACE};Sampled=0`,
    });
    const traced = measure(bundles.stacked, calls, rounds, {
      ...daemon,
      _X_AMZN_TRACE_ID: `${TRACE};Sampled=1`,
    });
    // The same stack with Powertools Tracer switched off: what the tracer itself costs, side by side.
    const untraced = measure(bundles.stacked, calls, rounds, { POWERTOOLS_TRACE_ENABLED: 'false' });
    const base = median(bare.microsecondsPerCall);
    const overhead = median(stacked.microsecondsPerCall) - base;
    const tracedOverhead = median(traced.microsecondsPerCall) - base;
    const untracedOverhead = median(untraced.microsecondsPerCall) - base;
    const row = (name: string, m: Measurement, extra: string) => [
      name,
      m.statusCode,
      `${fixed(median(m.microsecondsPerCall))} µs`,
      extra,
    ];
    return {
      id: 'middleware',
      title: `Warm invocation: shared middleware vs bare handler (median of ${rounds} rounds × ${calls.toLocaleString('en')} calls)`,
      headers: ['handler', 'status', 'per call', 'overhead vs bare'],
      rows: [
        row('bare handler (same parsing, validation and response)', bare, '—'),
        row('httpRoute, trace not sampled (most invocations)', stacked, `${fixed(overhead)} µs`),
        row('httpRoute, trace sampled (subsegment sent over UDP)', traced, `${fixed(tracedOverhead)} µs`),
        row(
          'httpRoute, tracing off (POWERTOOLS_TRACE_ENABLED=false)',
          untraced,
          `${fixed(untracedOverhead)} µs`,
        ),
      ],
      budgets: [
        {
          name: 'middleware overhead per warm invocation (trace not sampled: the common case)',
          limit: `≤ ${BUDGET_MICROSECONDS} µs`,
          actual: `${fixed(overhead)} µs (sampled: ${fixed(tracedOverhead)} µs; at the default 5% sampling about ${fixed(0.95 * overhead + 0.05 * tracedOverhead)} µs on average)`,
          ok: overhead <= BUDGET_MICROSECONDS,
        },
      ],
      notes: [
        'Both handlers are bundled with the toolkit esbuild options and run in their own fresh node process; each handles a POST /orders event with a two-line order body and Cognito claims.',
        'The stacked handler writes its "Request completed" log line and its EMF metrics line on every call, as deployed (stdout goes to /dev/null here).',
        'X-Ray samples the first request each second and 5% of the rest by default, so the unsampled row is the common case and the one the budget checks.',
        'Both traced rows run Powertools Tracer switched on, as in Lambda (AWS_EXECUTION_ENV, LAMBDA_TASK_ROOT); only the trace header says Sampled=0 or 1. A sampled invocation builds the handler subsegment (ColdStart, Service and correlationId annotations) and sends it to a loopback UDP socket standing in for the X-Ray daemon.',
        `The X-Ray SDK keeps its context in cls-hooked, whose async hooks run on every promise of every invocation, sampled or not (this machine: Node.js ${process.version}).`,
      ],
      data: { calls, rounds, bare, stacked, traced },
    };
  } finally {
    sink.close();
  }
}

function buildHandlers(): { bare: string; stacked: string } {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const shared = path.join(ROOT, 'functions', 'shared');
  const order = path.join(ROOT, 'functions', 'orders', 'domain', 'order');
  const work = `
export function priceOrder(body: { lines: Array<{ sku: string; quantity: number }> }, customerId: string) {
  const units = body.lines.reduce((sum, line) => sum + line.quantity, 0);
  return { id: 'ord-' + customerId.slice(0, 8), customerId, status: 'PENDING', lines: body.lines, units };
}`;
  fs.writeFileSync(path.join(WORK, 'work.ts'), work);
  fs.writeFileSync(
    path.join(WORK, 'stacked.ts'),
    `import '${shared}/schema';
import { httpRoute } from '${shared}/http';
import { PlaceOrderInput } from '${order}';
import { priceOrder } from './work';

export const handler = httpRoute({ body: PlaceOrderInput }, async ({ body, principal }) => ({
  statusCode: 201,
  body: priceOrder(body, principal!.userId),
}));
`,
  );
  fs.writeFileSync(
    path.join(WORK, 'bare.ts'),
    `import { safeParse } from 'zod/mini';
import '${shared}/schema';
import { PlaceOrderInput } from '${order}';
import { priceOrder } from './work';

export const handler = async (event: { body: string; requestContext: { authorizer: { claims: { sub: string } } } }) => {
  let json: unknown;
  try {
    json = JSON.parse(event.body);
  } catch {
    return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{"error":"MALFORMED_JSON"}' };
  }
  const parsed = safeParse(PlaceOrderInput, json);
  if (!parsed.success) return { statusCode: 400, headers: { 'content-type': 'application/json' }, body: '{}' };
  const result = priceOrder(parsed.data, event.requestContext.authorizer.claims.sub);
  return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
};
`,
  );
  esbuild.buildSync({
    ...SERVICE_FUNCTION_ESBUILD_OPTIONS,
    entryPoints: [
      { in: path.join(WORK, 'bare.ts'), out: 'bare/index' },
      { in: path.join(WORK, 'stacked.ts'), out: 'stacked/index' },
    ],
    outdir: path.join(WORK, 'out'),
  });
  return {
    bare: path.join(WORK, 'out', 'bare', 'index.mjs'),
    stacked: path.join(WORK, 'out', 'stacked', 'index.mjs'),
  };
}

const DRIVER = `
const { handler } = await import(process.env.BENCH_BUNDLE);
const calls = Number(process.env.BENCH_CALLS);
const rounds = Number(process.env.BENCH_ROUNDS);
const event = {
  httpMethod: 'POST', path: '/orders', resource: '/orders',
  headers: { 'Content-Type': 'application/json', 'X-Correlation-Id': 'bench-correlation-id' },
  body: JSON.stringify({ lines: [{ sku: 'SKU-000001', quantity: 2 }, { sku: 'SKU-000002', quantity: 1 }] }),
  pathParameters: null, queryStringParameters: null,
  requestContext: { requestId: 'bench-request', path: '/v1/orders',
    authorizer: { claims: { sub: '0f6e3a4c-1b2d-4e5f-8a9b-0c1d2e3f4a5b', username: 'demo', scope: 'orders.write', 'cognito:groups': 'customers' } } },
};
const context = {
  functionName: 'bench', functionVersion: '1', memoryLimitInMB: '256', awsRequestId: 'bench-request',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:bench', logGroupName: 'bench', logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 10000,
};
let status = 0;
for (let i = 0; i < 2000; i += 1) status = (await handler(event, context)).statusCode;
const perCall = [];
for (let r = 0; r < rounds; r += 1) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) await handler(event, context);
  perCall.push(Number(process.hrtime.bigint() - started) / 1000 / calls);
}
(await import('node:fs')).writeFileSync(process.env.BENCH_RESULT, JSON.stringify({ microsecondsPerCall: perCall, statusCode: status }));
`;

function measure(
  bundle: string,
  calls: number,
  rounds: number,
  extraEnv: Record<string, string>,
): Measurement {
  const result = path.join(WORK, `result-${path.basename(path.dirname(bundle))}-${Date.now()}.json`);
  const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', DRIVER], {
    env: {
      ...lambdaLikeEnvironment(),
      _HANDLER: 'index.handler',
      POWERTOOLS_SERVICE_NAME: 'orders',
      POWERTOOLS_METRICS_NAMESPACE: 'Bench',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...extraEnv,
      BENCH_BUNDLE: `file://${bundle}`,
      BENCH_CALLS: String(calls),
      BENCH_ROUNDS: String(rounds),
      BENCH_RESULT: result,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new Error(`measuring ${bundle} failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
  const measurement = JSON.parse(fs.readFileSync(result, 'utf8')) as Measurement;
  if (measurement.statusCode !== 201) {
    throw new Error(
      `${bundle} answered ${measurement.statusCode}, not 201: the benchmark would time an error path`,
    );
  }
  return measurement;
}

/** A UDP socket on loopback standing in for the X-Ray daemon; it discards what it receives. */
async function udpSink(): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, close: () => socket.close() };
}

if (require.main === module) runAlone(middlewareSection());
