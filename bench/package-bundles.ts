/**
 * A consumer's handler bundle when it takes an event contract from the package's `cdk-microservices/contracts`
 * entry, next to the same handler defining the contract itself: the package must not make a team's bundles
 * heavier than its own code would (budget: within 10%). Both are bundled exactly as a ServiceFunction is
 * (SERVICE_FUNCTION_ESBUILD_OPTIONS), against the package's ESM build installed into a scratch
 * `node_modules/cdk-microservices` with this repository's package.json, so the `exports` map is what resolves.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { SERVICE_FUNCTION_ESBUILD_OPTIONS } from '../lib/constructs/function-bundler';
import { buildEsm } from '../scripts/build';
import type { Budget, SectionResult } from './report';
import { runAlone } from './report';
import { fixed, kb } from './stats';

const ROOT = path.join(__dirname, '..');
const RATIO_BUDGET = 1.1;

/** Options of {@link packageBundlesSection}. */
export interface PackageBundlesOptions {
  /** Scratch folder (a fresh temporary folder is created and removed when omitted). */
  readonly workDir?: string;
}

const CONSUMER_BODY = `
export const handler = eventConsumer(
  on(OrderPlaced, async (event) => {
    logger.info('order placed', { orderId: event.data.orderId, lines: event.data.lines.length });
  }),
);
`;

const HTTP_BODY = `
export const handler = httpRoute({}, async (request) => ({
  statusCode: 200,
  body: { user: request.principal?.userId },
}));
`;

/** The handlers under test: same code, the contract imported or defined in place, kit by area or whole. */
const HANDLERS: Record<
  string,
  { readonly label: string; readonly baseline: string; readonly source: string }
> = {
  local: {
    baseline: 'local',
    label: 'contract defined in the handler (kit areas)',
    source: `import * as z from 'zod/mini';
import { defineContract, eventConsumer, on } from 'cdk-microservices/kit/events';
import { logger } from 'cdk-microservices/kit/powertools';

const Sku = z.string().check(z.regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'an upper-case SKU such as SKU-123'));
const Quantity = z.int().check(z.minimum(1), z.maximum(1000));
const OrderPlaced = defineContract({
  type: 'OrderPlaced',
  version: 1,
  producer: 'orders',
  description: 'A customer placed an order; it waits for stock to be reserved.',
  schema: z.object({
    orderId: z.uuid(),
    customerId: z.string().check(z.minLength(1)),
    lines: z.array(z.object({ sku: Sku, quantity: Quantity })).check(z.minLength(1), z.maxLength(50)),
  }),
});
${CONSUMER_BODY}`,
  },
  imported: {
    baseline: 'local',
    label: 'contract from cdk-microservices/contracts (kit areas)',
    source: `import { OrderPlaced } from 'cdk-microservices/contracts';
import { eventConsumer, on } from 'cdk-microservices/kit/events';
import { logger } from 'cdk-microservices/kit/powertools';
${CONSUMER_BODY}`,
  },
  whole: {
    baseline: 'local',
    label: 'contract from cdk-microservices/contracts, kit from cdk-microservices/kit',
    source: `import { OrderPlaced } from 'cdk-microservices/contracts';
import { eventConsumer, logger, on } from 'cdk-microservices/kit';
${CONSUMER_BODY}`,
  },
  'http-area': {
    baseline: 'http-area',
    label: 'HTTP route, kit from cdk-microservices/kit/http',
    source: `import { httpRoute } from 'cdk-microservices/kit/http';
${HTTP_BODY}`,
  },
  'http-whole': {
    baseline: 'http-area',
    label: 'HTTP route, kit from cdk-microservices/kit',
    source: `import { httpRoute } from 'cdk-microservices/kit';
${HTTP_BODY}`,
  },
};

/** Bundles each handler as a ServiceFunction would; returns the size of each `index.mjs`, in bytes. */
async function bundleHandlers(work: string): Promise<Record<string, number>> {
  const pkg = path.join(work, 'node_modules', 'cdk-microservices');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  await buildEsm(path.join(pkg, 'dist', 'esm'));

  const sizes: Record<string, number> = {};
  for (const [name, handler] of Object.entries(HANDLERS)) {
    const entry = path.join(work, 'handlers', `${name}.ts`);
    fs.mkdirSync(path.dirname(entry), { recursive: true });
    fs.writeFileSync(entry, handler.source);
    const outdir = path.join(work, 'bundles', name);
    buildSync({
      ...SERVICE_FUNCTION_ESBUILD_OPTIONS,
      entryPoints: [{ in: entry, out: 'index' }],
      outdir,
      // The package's dependencies (zod, Powertools, the SDK) come from this repository's node_modules,
      // as they would come from the consumer's after `npm install`.
      nodePaths: [path.join(ROOT, 'node_modules')],
      write: true,
    });
    sizes[name] = fs.statSync(path.join(outdir, 'index.mjs')).size;
  }
  return sizes;
}

/** The bench section: bundle sizes of a consumer handler with the contract imported from the package or local. */
export async function packageBundlesSection(options: PackageBundlesOptions = {}): Promise<SectionResult> {
  const work = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'package-bundles-'));
  try {
    const sizes = await bundleHandlers(work);
    const ratio = sizes.imported / sizes.local;
    const wholeKit = sizes['http-whole'] / sizes['http-area'];
    const budgets: Budget[] = [
      {
        name: 'consumer handler importing OrderPlaced from cdk-microservices/contracts vs defining it locally',
        limit: `≤ ${RATIO_BUDGET}×`,
        actual: `${fixed(ratio, 3)}× (${kb(sizes.imported)} vs ${kb(sizes.local)})`,
        ok: ratio <= RATIO_BUDGET,
      },
      {
        name: 'HTTP route importing httpRoute from cdk-microservices/kit vs from cdk-microservices/kit/http',
        limit: `≤ ${RATIO_BUDGET}×`,
        actual: `${fixed(wholeKit, 3)}× (${kb(sizes['http-whole'])} vs ${kb(sizes['http-area'])})`,
        ok: wholeKit <= RATIO_BUDGET,
      },
    ];
    return {
      id: 'package-bundles',
      title: "Package entry points: a consumer handler's bundle (ESM build of the kit and contracts)",
      headers: ['handler', 'bundle size', 'vs the first handler of its kind'],
      rows: Object.entries(HANDLERS).map(([name, handler]) => [
        handler.label,
        kb(sizes[name]),
        `${fixed(sizes[name] / sizes[handler.baseline], 3)}×`,
      ]),
      budgets,
      notes: [
        'Event handlers: an SQS event consumer (kit `eventConsumer` + `on`) logging fields of an OrderPlaced event; HTTP handlers: one `httpRoute` answering 200.',
        "The whole-kit entry stays as lean as an area because the ESM build keeps one module per source file and package.json's `sideEffects` lets the bundler drop the modules a handler does not use (e.g. the shared DynamoDB client).",
        'Bundled with the ServiceFunction options (minified ESM, AWS SDK bundled); sizes of index.mjs, source map excluded.',
        "The package is this repository's package.json (its `exports` map) over `dist/esm` built by scripts/build.ts.",
      ],
      data: { bytes: sizes, ratio, wholeKitRatio: wholeKit },
    };
  } finally {
    if (!options.workDir) fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) runAlone(packageBundlesSection());
