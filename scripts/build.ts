/**
 * `npm run build` (also run by `prepack`): builds what the package ships into dist/.
 *
 * - tsc (tsconfig.build.json): the constructs (`lib/index.ts`), the local runtime and its CLI (`local/`), the
 *   kit and the contracts → CommonJS `.js` + `.d.ts`. The kit's CommonJS build is tsc's, one file per module,
 *   so that its subpaths share one copy of each module (one Logger, one DynamoDB client) under `require`.
 * - esbuild: the kit and the contracts → ESM `.mjs` in dist/esm, for Lambda bundles. One build with code
 *   splitting, dependencies left external: a handler that imports one contract or one kit area gets only the
 *   chunks it reaches, and the consumer's bundler tree-shakes `zod/mini` and the rest as it would for its own
 *   code.
 *
 * The reference system (lib/stacks, lib/config, bin, functions/{orders,users,inventory}) is not part of the
 * package: the build fails if any of it was compiled, naming what was.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plugin } from 'esbuild';
import { build } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** Source folders of the ESM build: the kit and the contracts, every module of them. */
export const ESM_SOURCES = ['functions/shared', 'functions/contracts'];

/** Every TypeScript module under the ESM source folders, relative to `root`. */
export function esmModules(root: string = ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(relative);
    }
  };
  ESM_SOURCES.forEach(walk);
  return found.sort();
}

/** Compiled paths that belong to the reference system (the Shop) and must not be in dist/. */
export const SHOP_OUTPUTS = [
  'dist/lib/stacks',
  'dist/lib/config',
  'dist/bin',
  'dist/functions/orders',
  'dist/functions/users',
  'dist/functions/inventory',
];

function run(command: string, args: string[]): void {
  // stdout stays clean for `npm pack --json`, which runs this build as prepack.
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})`);
}

/** Copies the local runtime's non-TypeScript files (e.g. the moto launcher) next to its compiled code. */
function copyAssets(from: string, to: string): number {
  let copied = 0;
  if (!fs.existsSync(from)) return copied;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '__pycache__' && entry.name !== 'node_modules') copied += copyAssets(source, target);
    } else if (!/\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.startsWith('.')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
      copied += 1;
    }
  }
  return copied;
}

/** The file a relative import of `importer` names, as a TypeScript source (`./x` → `./x.ts` or `./x/index.ts`). */
function sourceOf(importer: string, specifier: string): string {
  const base = path.resolve(path.dirname(importer), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, importer)}: cannot resolve ${specifier}`);
}

/**
 * Relative imports stay imports, of the sibling `.mjs` output: every module of the kit is its own ESM file, as
 * in the sources, so a consumer's bundler sees the same module graph as the Shop's handlers do (one module per
 * concern, one copy of each singleton) and drops whole modules the handler does not use.
 */
const keepModules: Plugin = {
  name: 'keep-modules',
  setup(build) {
    build.onResolve({ filter: /^\.\.?(\/|$)/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = sourceOf(args.importer, args.path);
      let specifier = path
        .relative(path.dirname(args.importer), target)
        .split(path.sep)
        .join('/')
        .replace(/\.ts$/, '.mjs');
      if (!specifier.startsWith('.')) specifier = `./${specifier}`;
      return { path: specifier, external: true };
    });
  },
};

/**
 * The ESM build of the kit and the contracts into `outdir` (the package's `dist/esm`), one `.mjs` per source
 * module under the same folders (`dist/esm/functions/shared/http.mjs`), dependencies left as imports: the
 * consumer's bundler resolves and tree-shakes them (zod/mini, Powertools, the AWS SDK) as for its own code.
 * Returns the files written.
 */
export async function buildEsm(outdir: string, root: string = ROOT): Promise<string[]> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: esmModules(root),
    outbase: root,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    plugins: [keepModules],
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Readable output: the consumer's bundle minifies; names stay meaningful in its stack traces.
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  return Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.mjs'));
}

async function main(): Promise<void> {
  fs.rmSync(DIST, { recursive: true, force: true });

  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);

  const shop = SHOP_OUTPUTS.filter((output) => fs.existsSync(path.join(ROOT, output)));
  if (shop.length > 0) {
    throw new Error(
      `the reference system was compiled into the package: ${shop.join(', ')}. Something under lib/constructs, ` +
        'local/ or the kit imports it; the library must not depend on the Shop.',
    );
  }

  const assets = copyAssets(path.join(ROOT, 'local'), path.join(DIST, 'local'));

  const cli = path.join(DIST, 'local/cli/index.js');
  if (fs.existsSync(cli)) {
    const code = fs.readFileSync(cli, 'utf8');
    if (!code.startsWith('#!')) fs.writeFileSync(cli, `#!/usr/bin/env node\n${code}`);
    fs.chmodSync(cli, 0o755);
  }

  const esm = await buildEsm(path.join(DIST, 'esm'));

  // On stderr: `npm pack --json` runs this build as prepack and its stdout must stay JSON.
  console.error(
    `build: dist/ written (tsc: constructs, local runtime${fs.existsSync(cli) ? ', CLI' : ' (no local/cli/index.ts yet)'}, ` +
      `kit and contracts as CommonJS + .d.ts; esbuild: ${esm.length} ESM files; ${assets} local runtime assets copied)`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`build failed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
