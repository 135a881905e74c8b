/**
 * Per function of the reference system: our bundle (FunctionBundler, as deployed) next to the same entry
 * bundled by aws-cdk-lib's `NodejsFunction` with default options, in the same run: size on disk and cold
 * module-load time, each sample in a fresh `node` process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BUNDLE_FILE, FunctionBundler } from '../lib/constructs/function-bundler';
import { ServiceFunction } from '../lib/constructs/service-function';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { createShopSystem } from '../lib/stacks/shop-system';
import type { Budget, SectionResult } from './report';
import { lambdaLikeEnvironment, runAlone, samplesFromEnvironment } from './report';
import { fixed, kb, median, percentile } from './stats';

const ROOT = path.join(__dirname, '..');
/** Inside the repository: default bundles leave the SDK external, resolved from node_modules as Lambda's runtime would. */
const WORK = path.join(ROOT, 'bench', '.work', 'bundles');
/**
 * Re-set from measurement when Powertools Tracer came back (issue 14): the heaviest bundle measured 457.6 KB
 * (orders, with the tracer's +115.5 KB and the runtime-configuration client), plus 5% headroom. See
 * docs/PERFORMANCE.md, "Tracing with Powertools Tracer".
 */
const SIZE_BUDGET = 480 * 1024;
const LOAD_BUDGET = 0.65;

interface FunctionUnderTest {
  readonly name: string;
  readonly entry: string;
  readonly exportName: string;
  readonly environment: Record<string, string>;
  readonly ours: string;
  defaults?: string;
}

export interface BundlesOptions {
  /** Fresh-process load samples per bundle. @default 21 */
  readonly samples?: number;
}

export async function bundlesSection(options: BundlesOptions = {}): Promise<SectionResult> {
  const samples = options.samples ?? 21;
  fs.rmSync(WORK, { recursive: true, force: true });
  const functions = referenceFunctions();
  bundleWithDefaults(functions);

  const loads = new Map<string, { ours: number[]; defaults: number[] }>();
  for (let i = 0; i < samples; i += 1) {
    // Interleaved, so a slow moment of a shared machine hits both bundles of a function alike.
    for (const fn of functions) {
      const entry = loads.get(fn.name) ?? { ours: [], defaults: [] };
      entry.ours.push(loadTime(fn.ours, fn.exportName, fn.environment));
      const { NODE_OPTIONS: _ours, ...environment } = fn.environment;
      entry.defaults.push(loadTime(fn.defaults!, fn.exportName, environment));
      loads.set(fn.name, entry);
    }
  }

  const rows = functions.map((fn) => {
    const load = loads.get(fn.name)!;
    return [
      fn.name,
      kb(fs.statSync(fn.ours).size),
      kb(fs.statSync(fn.defaults!).size),
      `${fixed(median(load.ours))} / ${fixed(percentile(load.ours, 90))} ms`,
      `${fixed(median(load.defaults))} / ${fixed(percentile(load.defaults, 90))} ms`,
      fixed(median(load.ours) / median(load.defaults), 2),
    ];
  });

  const heaviest = [...functions].sort((a, b) => fs.statSync(b.ours).size - fs.statSync(a.ours).size)[0];
  const heaviestSize = fs.statSync(heaviest.ours).size;
  const heaviestLoad = loads.get(heaviest.name)!;
  const ratio = median(heaviestLoad.ours) / median(heaviestLoad.defaults);
  const worst = functions
    .map((fn) => ({ fn, ratio: median(loads.get(fn.name)!.ours) / median(loads.get(fn.name)!.defaults) }))
    .sort((a, b) => b.ratio - a.ratio)[0];
  const budgets: Budget[] = [
    {
      name: 'heaviest bundle',
      limit: `≤ ${kb(SIZE_BUDGET)}`,
      actual: `${kb(heaviestSize)} (${heaviest.name})`,
      ok: heaviestSize <= SIZE_BUDGET,
    },
    {
      name: 'cold module load of the heaviest bundle vs its default NodejsFunction bundle (medians)',
      limit: `≤ ${LOAD_BUDGET}×`,
      actual: `${fixed(ratio, 2)}× (${fixed(median(heaviestLoad.ours))} ms vs ${fixed(median(heaviestLoad.defaults))} ms)`,
      ok: ratio <= LOAD_BUDGET,
    },
  ];

  return {
    id: 'bundles',
    title: 'Function bundles: toolkit vs default NodejsFunction (size, cold module load median / p90)',
    headers: ['function', 'toolkit size', 'default size', 'toolkit load', 'default load', 'load ratio'],
    rows,
    budgets,
    notes: [
      `Toolkit: the bundle that deploys (FunctionBundler: minified ESM, AWS SDK bundled, linked source map loaded through --enable-source-maps as the function's NODE_OPTIONS sets).`,
      'Default: the same entry in an aws-cdk-lib NodejsFunction with default options (CommonJS, not minified, @aws-sdk/* left to the runtime and loaded from node_modules here, as Lambda loads its own copy).',
      'Both bundle the same handler code, so the same tracer: Powertools Tracer with aws-xray-sdk-core (not an @aws-sdk/* package, so bundled by both); both load with tracing switched on (AWS_EXECUTION_ENV and LAMBDA_TASK_ROOT set, as in Lambda).',
      `Load: \`await import(bundle)\` timed inside a fresh node ${process.version} process with the function's environment, ${samples} samples per bundle, interleaved; median / p90.`,
      `Worst load ratio of any function: ${fixed(worst.ratio, 2)}× (${worst.fn.name}).`,
    ],
    data: Object.fromEntries(
      functions.map((fn) => [
        fn.name,
        {
          entry: path.relative(ROOT, fn.entry),
          oursBytes: fs.statSync(fn.ours).size,
          defaultBytes: fs.statSync(fn.defaults!).size,
          oursLoadMs: loads.get(fn.name)!.ours,
          defaultLoadMs: loads.get(fn.name)!.defaults,
        },
      ]),
    ),
  };
}

/** Every ServiceFunction of the reference system (dev), with its bundle and its template environment. */
function referenceFunctions(): FunctionUnderTest[] {
  const app = new App({
    outdir: path.join(WORK, 'reference.out'),
    context: { ...cdkJsonContext(), env: 'dev' },
  });
  createShopSystem(app, loadEnvironmentConfig('dev'));
  const bundler = FunctionBundler.of(app);
  return app.node
    .findAll()
    .filter((c): c is ServiceFunction => c instanceof ServiceFunction)
    .map((fn) => {
      const cfn = fn.function.node.defaultChild as CfnFunction;
      const resolved = Stack.of(fn).resolve(cfn.environment) as { variables?: Record<string, unknown> };
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(resolved?.variables ?? {})) {
        // References to other resources are unknown before deployment; any non-empty value will do here.
        environment[key] = typeof value === 'string' ? value : `bench-${key.toLowerCase()}`;
      }
      return {
        name: `${Stack.of(fn)
          .stackName.replace(/^Shop-dev-/, '')
          .toLowerCase()} ${fn.node.id === 'Consumer' ? fn.node.scope!.node.id : fn.node.id}`,
        entry: fn.entry,
        exportName: String(cfn.handler).split('.').pop()!,
        environment,
        ours: path.join(bundler.bundle(fn.entry), BUNDLE_FILE),
      };
    });
}

/** Bundles every entry in a NodejsFunction with default options and records where its index.js was staged. */
function bundleWithDefaults(functions: FunctionUnderTest[]): void {
  const app = new App({ outdir: path.join(WORK, 'defaults.out'), context: cdkJsonContext() });
  const stack = new Stack(app, 'Defaults');
  functions.forEach((fn, i) => {
    const construct = new NodejsFunction(stack, `Fn${i}`, { entry: fn.entry, handler: fn.exportName });
    const staging = construct.node.findAll().find((c): c is AssetStaging => c instanceof AssetStaging);
    if (!staging) throw new Error(`no staged asset for ${fn.entry}`);
    fn.defaults = path.join(staging.absoluteStagedPath, 'index.js');
  });
}

const LOADER = `
const started = performance.now();
const module = await import(process.env.BENCH_BUNDLE);
const elapsed = performance.now() - started;
const exported = module[process.env.BENCH_EXPORT] ?? module.default?.[process.env.BENCH_EXPORT];
if (typeof exported !== 'function') throw new Error('the bundle does not export ' + process.env.BENCH_EXPORT);
process.stdout.write(String(elapsed));
`;

/** Milliseconds from `import()` to a loaded module, in a fresh node process with a Lambda-like environment. */
function loadTime(bundle: string, exportName: string, environment: Record<string, string>): number {
  const env: Record<string, string> = {
    ...lambdaLikeEnvironment(),
    ...environment,
    BENCH_BUNDLE: `file://${bundle}`,
    BENCH_EXPORT: exportName,
  };
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', LOADER], {
    env,
    encoding: 'utf8',
  });
  const elapsed = Number(result.stdout);
  if (result.status !== 0 || !Number.isFinite(elapsed)) {
    throw new Error(`loading ${bundle} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return elapsed;
}

if (require.main === module) runAlone(bundlesSection({ samples: samplesFromEnvironment() }));
