/**
 * `cdk synth` wall time and peak memory for generated apps of 1, 10 and 30 services, built with this toolkit
 * (a Microservice per service: API, table, alarms, four Lambda routes) and, next to it in the same run, a naive
 * baseline with the same handler files in one default `NodejsFunction` each. Each sample is the real CLI in a
 * fresh process with an empty output folder.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Budget, SectionResult } from './report';
import { runAlone, samplesFromEnvironment } from './report';
import { fixed, median } from './stats';

const ROOT = path.join(__dirname, '..');
/** Inside the repository, so the baseline's NodejsFunction finds package-lock.json like a real project. */
const WORK = path.join(ROOT, 'bench', '.work', 'synth');
const CDK_CLI = path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const ROUTES = ['create', 'get', 'list', 'update'] as const;

type Variant = 'toolkit' | 'cached' | 'baseline';

interface Sample {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly functions: number;
}

export interface SynthOptions {
  /** Service counts to generate. @default [1, 10, 30] */
  readonly sizes?: readonly number[];
  /** Samples per cell for apps of up to 10 services (larger apps get one). @default 3 */
  readonly samples?: number;
}

export async function synthSection(options: SynthOptions = {}): Promise<SectionResult> {
  const sizes = options.sizes ?? [1, 10, 30];
  const samplesSmall = options.samples ?? 3;
  const context = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).context;
  fs.rmSync(WORK, { recursive: true, force: true });

  const results = new Map<string, Sample[]>();
  for (const services of sizes) {
    const dirs = {
      toolkit: generateApp('toolkit', services, context),
      baseline: generateApp('baseline', services, context),
    };
    const samples = services <= 10 ? samplesSmall : 1;
    for (let i = 0; i < samples; i += 1) {
      // Interleaved, so a slow moment of a shared machine hits both variants alike.
      const cache = path.join(WORK, `bundle-cache-${services}`);
      fs.rmSync(cache, { recursive: true, force: true });
      const record = (variant: Variant, sample: Sample) =>
        results.set(`${variant}:${services}`, [...(results.get(`${variant}:${services}`) ?? []), sample]);
      // First synth with an empty bundle cache (the budgeted figure), then again with the cache it filled.
      record('toolkit', runSynth(dirs.toolkit, cache));
      record('cached', runSynth(dirs.toolkit, cache));
      record('baseline', runSynth(dirs.baseline, cache));
    }
  }

  const cell = (variant: Variant, services: number) => {
    const samples = results.get(`${variant}:${services}`)!;
    return {
      seconds: median(samples.map((s) => s.seconds)),
      rss: Math.max(...samples.map((s) => s.peakRssBytes)),
      functions: samples[0].functions,
      samples: samples.length,
    };
  };
  const rows = sizes.map((services) => {
    const ours = cell('toolkit', services);
    const cached = cell('cached', services);
    const base = cell('baseline', services);
    return [
      services,
      ours.functions,
      `${fixed(ours.seconds)} s`,
      `${fixed(cached.seconds)} s`,
      `${fixed(base.seconds)} s`,
      fixed(ours.seconds / base.seconds, 2),
      `${Math.round(ours.rss / 2 ** 20)} MiB`,
      `${Math.round(base.rss / 2 ** 20)} MiB`,
      ours.samples,
    ];
  });

  const budgets: Budget[] = [];
  if (sizes.includes(10)) {
    const ratio = cell('toolkit', 10).seconds / cell('baseline', 10).seconds;
    budgets.push({
      name: 'synth of 10 services vs the naive baseline',
      limit: '≤ 0.50×',
      actual: `${fixed(ratio, 2)}× (${fixed(cell('toolkit', 10).seconds)} s vs ${fixed(cell('baseline', 10).seconds)} s)`,
      ok: ratio <= 0.5,
    });
  }
  if (sizes.includes(1) && sizes.includes(10) && sizes.includes(30)) {
    const early = (cell('toolkit', 10).seconds - cell('toolkit', 1).seconds) / 9;
    const late = (cell('toolkit', 30).seconds - cell('toolkit', 10).seconds) / 20;
    budgets.push({
      name: 'per-service synth increment, 10→30 vs 1→10 services',
      limit: '≤ 1.5× (flat: linear in the number of services)',
      actual: `${fixed(late, 2)} s vs ${fixed(early, 2)} s per service (${fixed(late / early, 2)}×)`,
      ok: late <= 1.5 * early,
    });
  }
  const largest = Math.max(...sizes);
  const rss = cell('toolkit', largest).rss;
  budgets.push({
    name: `peak RSS of the synth of ${largest} services`,
    limit: '< 1024 MiB',
    actual: `${Math.round(rss / 2 ** 20)} MiB`,
    ok: rss < 2 ** 30,
  });

  return {
    id: 'synth',
    title: '`cdk synth` of generated apps: toolkit vs one default NodejsFunction per entry',
    headers: [
      'services',
      'functions',
      'toolkit',
      'toolkit, bundles cached',
      'baseline',
      'ratio',
      'toolkit peak RSS',
      'baseline peak RSS',
      'samples',
    ],
    rows,
    budgets,
    notes: [
      'Each sample runs the aws-cdk CLI (`cdk synth -q`) in a fresh process into an empty output folder; the app runs under `node --import tsx`. Times are medians.',
      '"toolkit" starts with an empty bundle cache (a first synth; the budgets use it); "bundles cached" is the next synth of the unchanged app, which reuses every bundle.',
      'Toolkit app: one stack per service, each a Microservice (REST API with authorizer and WAF association, KMS-encrypted table, alarms) with four routes; the functions of the app are bundled by one esbuild build.',
      "Baseline app: the same handler files, one stack per service, each handler in an aws-cdk-lib `NodejsFunction` with default options (one esbuild process per function); nothing else. Both apps keep aws-cdk-lib's built-in template validation on.",
      'Peak RSS is the app process (where constructs, bundling and validation run), from `process.resourceUsage().maxRSS`; the CLI process is not included.',
      `Apps of up to 10 services: median of ${samplesSmall} samples; 30 services: one sample.`,
    ],
    data: Object.fromEntries(results),
  };
}

function generateApp(variant: Variant, services: number, context: unknown): string {
  const dir = path.join(WORK, `${variant}-${services}`);
  fs.mkdirSync(dir, { recursive: true });
  const handlers = path.join(WORK, `handlers-${services}`);
  if (!fs.existsSync(handlers)) {
    for (let i = 0; i < services; i += 1) {
      for (const route of ROUTES) {
        const file = path.join(handlers, `svc${i}`, `${route}.ts`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, handlerSource(i, route, path.dirname(file)));
      }
    }
  }
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  fs.writeFileSync(
    path.join(dir, 'cdk.json'),
    JSON.stringify({ app: `node --import ${tsx} app.ts`, context }, null, 2),
  );
  fs.writeFileSync(
    path.join(dir, 'app.ts'),
    variant === 'toolkit' ? toolkitApp(services, handlers) : baselineApp(services, handlers),
  );
  return dir;
}

/** A handler like a real service's: the shared HTTP middleware, a zod body schema and one DynamoDB call. */
function handlerSource(service: number, route: (typeof ROUTES)[number], dir: string): string {
  const shared = path
    .relative(dir, path.join(ROOT, 'functions', 'shared'))
    .split(path.sep)
    .join('/');
  const command = { create: 'PutCommand', get: 'GetCommand', list: 'QueryCommand', update: 'UpdateCommand' }[
    route
  ];
  const input = {
    create: '{ TableName: table, Item: { pk: request.body.id, name: request.body.name } }',
    get: '{ TableName: table, Key: { pk: request.pathParameters.id } }',
    list: "{ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'all' } }",
    update:
      "{ TableName: table, Key: { pk: request.pathParameters.id }, UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'name' }, ExpressionAttributeValues: { ':n': request.body.name } }",
  }[route];
  return `// Generated by bench/synth.ts (service ${service}, route ${route}).
import { ${command} } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { documentClient } from '${shared}/dynamodb';
import { httpRoute } from '${shared}/http';

const table = process.env.TABLE_NAME ?? '';
const Body = z.object({ id: z.string().check(z.minLength(1)), name: z.string().check(z.maxLength(100)) });

export const handler = httpRoute({ body: ${route === 'create' || route === 'update' ? 'Body' : 'undefined'} }, async (request) => {
  const result = await documentClient.send(new ${command}(${input}));
  return { statusCode: 200, body: { service: ${service}, result: result.$metadata.httpStatusCode } };
});
`;
}

function toolkitApp(services: number, handlers: string): string {
  const lib = path.join(ROOT, 'lib', 'index.ts');
  return `${rssProbe()}
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AccessMode, DataProtection, HttpMethod, Microservice, PlatformReference, RouteAccess } from '${lib}';

const app = new App();
for (let i = 0; i < ${services}; i += 1) {
  const stack = new Stack(app, \`Bench-Svc\${i}\`);
  const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Bench', envName: 'dev' });
  const entry = (route: string) => path.join('${handlers}', \`svc\${i}\`, \`\${route}.ts\`);
  new Microservice(stack, 'Service', {
    serviceName: \`svc\${i}\`,
    platform,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    dataProtection: DataProtection.DESTROY,
    routes: [
      { method: HttpMethod.POST, path: '/items', entry: entry('create'), access: RouteAccess.scopes('items.write'), tableAccess: AccessMode.READ_WRITE },
      { method: HttpMethod.GET, path: '/items/{id}', entry: entry('get'), access: RouteAccess.scopes('items.read'), tableAccess: AccessMode.READ },
      { method: HttpMethod.GET, path: '/items', entry: entry('list'), access: RouteAccess.scopes('items.read'), tableAccess: AccessMode.READ },
      { method: HttpMethod.PUT, path: '/items/{id}', entry: entry('update'), access: RouteAccess.scopes('items.write'), tableAccess: AccessMode.READ_WRITE },
    ],
  });
}
app.synth();
`;
}

function baselineApp(services: number, handlers: string): string {
  return `${rssProbe()}
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

const app = new App();
for (let i = 0; i < ${services}; i += 1) {
  const stack = new Stack(app, \`Bench-Svc\${i}\`);
  for (const route of ${JSON.stringify(ROUTES)}) {
    new NodejsFunction(stack, route, { entry: path.join('${handlers}', \`svc\${i}\`, \`\${route}.ts\`) });
  }
}
app.synth();
`;
}

/** Makes the app write its peak RSS next to itself when it exits. */
function rssProbe(): string {
  return `// Generated by bench/synth.ts.
import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync('peak-rss.txt', String(process.resourceUsage().maxRSS * 1024)));`;
}

function runSynth(dir: string, bundleCache: string): Sample {
  const out = path.join(dir, 'cdk.out');
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(path.join(dir, 'peak-rss.txt'), { force: true });
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CDK_CLI, 'synth', '-q', '-o', out], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_CLI_TELEMETRY_DISABLED: 'true',
      CDK_MICROSERVICES_BUNDLE_CACHE: bundleCache,
    },
    maxBuffer: 64 * 2 ** 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    throw new Error(`cdk synth failed in ${dir} (exit ${result.status}):\n${result.stderr.slice(-4000)}`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const functions = Object.keys(manifest.artifacts)
    .filter((id) => manifest.artifacts[id].type === 'aws:cloudformation:stack')
    .map((id) =>
      JSON.parse(fs.readFileSync(path.join(out, manifest.artifacts[id].properties.templateFile), 'utf8')),
    )
    .flatMap((template) => Object.values(template.Resources as Record<string, { Type: string }>))
    .filter((resource) => resource.Type === 'AWS::Lambda::Function').length;
  return {
    seconds,
    peakRssBytes: Number(fs.readFileSync(path.join(dir, 'peak-rss.txt'), 'utf8')),
    functions,
  };
}

if (require.main === module) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  runAlone(synthSection({ ...(sizes.length ? { sizes } : {}), samples: samplesFromEnvironment() }));
}
