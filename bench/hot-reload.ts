/**
 * Benchmark section "hot reload": edit → first request served with the new code, for 20 edits of a module a
 * reference-system handler imports (`functions/orders/domain/order.ts`, which five orders handlers import),
 * with the function runner watching (`FunctionRunner.watch`), as `dev` runs it.
 *
 * It works on a copy of `functions/` under bench/.work (the repository is never edited): the copied orders
 * handlers are synthesized with ServiceFunction (the function bundler, the bundler's options, the sources
 * record), run by the function runner, and `GET /orders/{id}` with a malformed id is requested back to back
 * after each edit until its 400 answer carries the edited validation message. Try it alone with
 * `npx tsx bench/hot-reload.ts` (`BENCH_SAMPLES=5` for fewer edits).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { App, Stack } from 'aws-cdk-lib';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { ServiceFunction } from '../lib/constructs/service-function';
import { FunctionRunner } from '../local/function-runner';
import type { EmulatorEndpoint, LocalFunction } from '../local/model';
import { sleep } from '../local/util';
import type { Budget, SectionResult } from './report';
import { runAlone, samplesFromEnvironment } from './report';
import { fixed, median, percentile } from './stats';

const ROOT = path.join(__dirname, '..');
/** Inside the repository, so the copy resolves the repository's node_modules like the original does. */
const WORK = path.join(ROOT, 'bench', '.work', 'hot-reload');
const BUDGET_MS = 1_500;
/** The module edited, relative to the copy, and the text each edit changes. */
const EDITED = path.join('functions', 'orders', 'domain', 'order.ts');
const MESSAGE = 'an order id (UUID)';
const HANDLERS = ['get-order', 'place-order', 'cancel-order', 'list-orders', 'on-stock-result'];
/** A reload that takes longer than this is a failure, not a slow sample. */
const GIVE_UP_MS = 30_000;
/** Time left between edits, so one edit's reload is over before the next edit (a developer types slower). */
const BETWEEN_EDITS_MS = 300;
/** Time for the background preparation of the invoked function's build context before the first edit. */
const SETTLE_MS = 5_000;

/** Options of {@link hotReloadSection}. */
export interface HotReloadOptions {
  /**
   * Edits measured.
   * @default 20
   */
  readonly edits?: number;
}

/** Runs the section on a copy of the reference system's functions, and deletes the copy. */
export async function hotReloadSection(options: HotReloadOptions = {}): Promise<SectionResult> {
  const edits = options.edits ?? 20;
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.cpSync(path.join(ROOT, 'functions'), path.join(WORK, 'functions'), { recursive: true });
  fs.writeFileSync(
    path.join(WORK, 'package.json'),
    JSON.stringify({ name: 'hot-reload-bench', private: true }),
  );
  const edited = path.join(WORK, EDITED);
  const original = fs.readFileSync(edited, 'utf8');
  if (!original.includes(`'${MESSAGE}'`)) throw new Error(`${EDITED} no longer holds '${MESSAGE}'`);

  const functions = synthesize();
  const getOrder = [...functions.values()].find((fn) => fn.description.includes('get-order'))!;
  const lines: string[] = [];
  const emulator: EmulatorEndpoint = {
    endpoint: 'http://127.0.0.1:9',
    region: 'eu-west-1',
    accessKeyId: 'bench',
    secretAccessKey: 'bench',
  };
  const runner = new FunctionRunner(functions, emulator, { log: () => undefined });
  const stop = runner.watch((line) => lines.push(line));
  const served: number[] = [];
  const rebuilt: number[] = [];
  try {
    const first = await messageOf(runner, getOrder.key);
    if (!first.includes(MESSAGE)) throw new Error(`unexpected answer of GET /orders/{id}: ${first}`);
    await sleep(SETTLE_MS);
    for (let edit = 1; edit <= edits; edit += 1) {
      const marker = `${MESSAGE} #${edit}`;
      const before = lines.length;
      fs.writeFileSync(edited, original.replace(`'${MESSAGE}'`, `'${marker}'`));
      const started = performance.now();
      for (;;) {
        const message = await messageOf(runner, getOrder.key);
        if (message.includes(marker)) break;
        if (performance.now() - started > GIVE_UP_MS) {
          throw new Error(
            `edit ${edit} not served after ${GIVE_UP_MS} ms:\n${lines.slice(before).join('\n')}`,
          );
        }
        await sleep(2);
      }
      served.push(performance.now() - started);
      await sleep(BETWEEN_EDITS_MS);
      const reload = lines.slice(before).find((line) => / rebuilt in \d+ ms/.test(line));
      if (reload) rebuilt.push(Number(/ rebuilt in (\d+) ms/.exec(reload)![1]));
    }
  } finally {
    stop();
    await runner.close();
    fs.rmSync(WORK, { recursive: true, force: true });
  }

  const p90 = percentile(served, 90);
  const budgets: Budget[] = [
    {
      name: 'handler edit → new code served (p90)',
      limit: `≤ ${fixed(BUDGET_MS / 1000, 1)} s`,
      actual: `${fixed(p90, 0)} ms (p50 ${fixed(median(served), 0)} ms, ${served.length} edits)`,
      ok: p90 <= BUDGET_MS,
    },
  ];
  const row = (name: string, samples: readonly number[]) =>
    samples.length === 0
      ? [name, '-', '-', '-']
      : [
          name,
          `${fixed(median(samples), 0)} ms`,
          `${fixed(percentile(samples, 90), 0)} ms`,
          `${fixed(Math.max(...samples), 0)} ms`,
        ];
  return {
    id: 'hot-reload',
    title: `Hot reload: ${EDITED} edited ${served.length} times (imported by ${HANDLERS.length} orders handlers)`,
    headers: ['measure', 'p50', 'p90', 'max'],
    rows: [
      row('edit → first GET /orders/{id} answered by the new code', served),
      row('of which the rebuild of the function in use (incremental esbuild)', rebuilt),
    ],
    budgets,
    notes: [
      'A copy of functions/ (the repository is not edited), synthesized with ServiceFunction; the function runner watches it as `dev` does.',
      'From the write of the file to the first answer carrying the edited message: file event, 30 ms debounce, rebuild of the function in use, code swap, cold start of a new execution environment, the request.',
      'Only GET /orders/{id} is invoked: the four other functions importing the module are not rebuilt on each edit but once, before their next request.',
    ],
    data: { servedMs: served, rebuildMs: rebuilt },
  };
}

/** The orders handlers of the copy, synthesized; each as the local runtime would run it. */
function synthesize(): Map<string, LocalFunction> {
  const app = new App({ outdir: path.join(WORK, 'cdk.out'), context: cdkJsonContext() });
  const stack = new Stack(app, 'Orders');
  for (const name of HANDLERS) {
    new ServiceFunction(stack, name, {
      entry: path.join(WORK, 'functions', 'orders', 'handlers', `${name}.ts`),
      serviceName: 'orders',
      metricsNamespace: 'Bench',
      description: `orders: ${name}`,
    });
  }
  const assembly = app.synth();
  const template = assembly.getStackByName('Orders').template as {
    Resources: Record<
      string,
      { Type: string; Properties: { Code?: { S3Key?: string }; Description?: string } }
    >;
  };
  const functions = new Map<string, LocalFunction>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Properties.Code?.S3Key) continue;
    const hash = path.basename(resource.Properties.Code.S3Key, '.zip');
    functions.set(`Orders/${logicalId}`, {
      key: `Orders/${logicalId}`,
      name: `orders-${logicalId}`,
      stackName: 'Orders',
      logicalId,
      description: resource.Properties.Description ?? logicalId,
      assetDir: path.join(assembly.directory, `asset.${hash}`),
      handler: 'index.handler',
      timeoutSeconds: 10,
      memoryMb: 256,
      environment: {
        TABLE_NAME: 'orders',
        TABLE_PARTITION_KEY: 'pk',
        EVENT_SOURCE: 'shop.orders',
        POWERTOOLS_SERVICE_NAME: 'orders',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_TRACE_ENABLED: 'false',
      },
    });
  }
  return functions;
}

/** `GET /orders/{id}` with an id that is not a UUID: the 400's body (it carries the validation message). */
async function messageOf(runner: FunctionRunner, key: string): Promise<string> {
  const response = (await runner.invoke(key, {
    resource: '/orders/{id}',
    path: '/orders/not-a-uuid',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { id: 'not-a-uuid' },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'bench',
      stage: 'v1',
      authorizer: { claims: { sub: 'bench-user', username: 'bench', scope: 'api/orders.read' } },
    },
  })) as { statusCode: number; body: string };
  return `${response.statusCode} ${response.body}`;
}

if (require.main === module) runAlone(hotReloadSection({ edits: samplesFromEnvironment() }));
