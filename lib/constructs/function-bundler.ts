import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as EsbuildApi from 'esbuild';
import type { BuildOptions, BuildResult } from 'esbuild';
import { AssetHashType, DockerImage, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { BundleCache, bundleSettings, recordBundleSources } from './bundle-cache';
import { packagedHandler } from './package-paths';

/** What every service function is bundled with; exported so tests and the benchmark build the same thing. */
export const SERVICE_FUNCTION_ESBUILD_OPTIONS: Readonly<BuildOptions> = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // Module-first resolution lets esbuild tree-shake the ESM builds of the SDK and Powertools.
  mainFields: ['module', 'main'],
  minify: true,
  // Linked map (`//# sourceMappingURL`), so `--enable-source-maps` resolves stack traces to TypeScript lines.
  sourcemap: 'linked',
  sourcesContent: false,
  // The AWS SDK is bundled, not taken from the runtime's copy: what is tested is what runs.
  external: [],
  // Lambda hands functions their credentials in environment variables: the SDK's full default chain
  // (SSO, STS, INI files, IMDS) would add ~100 KB to every bundle and cold start for nothing.
  alias: { '@aws-sdk/credential-provider-node': packagedHandler('shared/lambda-credentials.ts') },
  // CommonJS dependencies inside an ESM bundle still need `require` for Node built-ins.
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  outExtension: { '.js': '.mjs' },
  logLevel: 'silent',
};

/** The file name of every bundle (the Lambda handler is `index.<export>`). */
export const BUNDLE_FILE = 'index.mjs';

type EsbuildModule = typeof EsbuildApi;

/** esbuild is a peer dependency, loaded only when something is bundled. */
function esbuild(): EsbuildModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild');
}

const bundlers = new WeakMap<IConstruct, FunctionBundler>();
const scratchDirs = new Set<string>();

/**
 * Bundles service-function entries with esbuild, many entries in one build: the SDK, Powertools and shared
 * code are parsed once per build instead of once per function, and no process is spawned per function.
 * Constructs announce their entries up front with {@link FunctionBundler.prepare}; the first function that
 * asks for its bundle builds everything announced so far in one esbuild call. Bundles whose inputs are
 * unchanged since an earlier synth come from the {@link BundleCache} instead. One bundler per app (construct
 * tree), so a long-lived process that synthesizes again after an edit sees the edited sources.
 */
export class FunctionBundler {
  /** The bundler of the app that `scope` belongs to. */
  public static of(scope: IConstruct): FunctionBundler {
    const root = scope.node.root;
    let bundler = bundlers.get(root);
    if (!bundler) {
      bundler = new FunctionBundler(Stage.isStage(root) ? root.outdir : undefined);
      bundlers.set(root, bundler);
    }
    return bundler;
  }

  /** Number of esbuild builds this bundler ran (the benchmark and tests read it). */
  public builds = 0;
  /** Number of bundles served from the cache of earlier synths instead of built. */
  public cacheHits = 0;
  private cache: BundleCache | undefined | null = null;
  private readonly pending = new Set<string>();
  private readonly built = new Map<string, string>();
  /** The files each built entry's bundle was made of (absolute paths), recorded for the local hot reload. */
  private readonly inputs = new Map<string, string[]>();
  private outdir: string | undefined;

  private constructor(private readonly assemblyDir: string | undefined) {}

  /** Announces entries that will be bundled, so the next build includes them. */
  public prepare(entries: Iterable<string>): void {
    for (const entry of entries) {
      const absolute = path.resolve(entry);
      if (!this.built.has(absolute)) this.pending.add(absolute);
    }
  }

  /**
   * The Lambda code of `entry`: an asset bundled through CDK's local bundling hook, so the CLI's choice of
   * stacks to bundle (`cdk deploy OneStack`, `aws:cdk:bundling-stacks`) is honoured and skipped stacks cost
   * nothing. The asset hash is the bundle's content (source map included), so an unchanged function keeps
   * its version across deployments.
   */
  public code(entry: string): lambda.Code {
    const absolute = path.resolve(entry);
    return lambda.Code.fromAsset(path.dirname(absolute), {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never pulled: local bundling below always succeeds or throws. Bundling never uses Docker.
        image: DockerImage.fromRegistry('esbuild-local-only'),
        // Part of CDK's in-process asset cache key, which must differ per entry of the same folder.
        command: ['esbuild', absolute],
        local: {
          tryBundle: (outputDir: string) => {
            const bundle = this.bundle(absolute);
            for (const file of [BUNDLE_FILE, `${BUNDLE_FILE}.map`]) {
              fs.copyFileSync(path.join(bundle, file), path.join(outputDir, file));
            }
            this.recordSources(absolute, outputDir);
            return true;
          },
        },
      },
    });
  }

  /**
   * The folder holding `index.mjs` and `index.mjs.map` for `entry`, building it (with every announced
   * entry) if it is not built yet.
   */
  public bundle(entry: string): string {
    const absolute = path.resolve(entry);
    const done = this.built.get(absolute);
    if (done) return done;
    this.pending.add(absolute);
    const batch = [...this.pending];
    this.pending.clear();
    const cache = this.bundleCache();
    const stale = batch.filter((candidate) => {
      const cached = cache?.lookup(candidate, outputKey(candidate));
      if (cached) {
        this.built.set(candidate, cached);
        const inputs = cache?.inputsOf(outputKey(candidate));
        if (inputs) this.inputs.set(candidate, inputs);
        this.cacheHits += 1;
      }
      return !cached;
    });
    if (stale.length > 0) this.build(stale);
    return this.built.get(absolute)!;
  }

  /**
   * Writes what the bundle staged in `outputDir` was made of next to the cloud assembly's assets (see
   * {@link recordBundleSources}): the local runtime's hot reload rebuilds the function from it. Best effort:
   * an app whose root is not a stage has no assembly folder, and a synth never fails for it.
   */
  private recordSources(entry: string, outputDir: string): void {
    const inputs = this.inputs.get(entry);
    if (!this.assemblyDir || !inputs) return;
    try {
      recordBundleSources(this.assemblyDir, outputDir, {
        entry,
        inputs,
        options: SERVICE_FUNCTION_ESBUILD_OPTIONS as Record<string, unknown>,
        workingDirectory: process.cwd(),
      });
    } catch {
      // Without the record the function is served but not reloaded; the runtime says so.
    }
  }

  /** The cache of earlier synths (see {@link BundleCache}), looked up once, when the first bundle is asked for. */
  private bundleCache(): BundleCache | undefined {
    if (this.cache === null) {
      this.cache = BundleCache.fromEnvironment(
        bundleSettings(SERVICE_FUNCTION_ESBUILD_OPTIONS, esbuild().version),
      );
    }
    return this.cache;
  }

  /**
   * The scratch folder builds write to, created by the first build (apps whose stacks skip bundling make
   * none): next to the cloud assembly (cdk.out), which holds CDK's own bundling scratch folders too.
   */
  private scratch(): string {
    if (!this.outdir) {
      const root = path.join(this.assemblyDir ?? os.tmpdir(), '.function-bundles');
      fs.mkdirSync(root, { recursive: true });
      this.outdir = fs.mkdtempSync(path.join(root, 'build-'));
      removeOnExit(this.outdir);
    }
    return this.outdir;
  }

  private build(entries: string[]): void {
    const outdir = this.scratch();
    const outputs = new Map(entries.map((entry) => [entry, outputKey(entry)]));
    let result: BuildResult;
    try {
      result = esbuild().buildSync({
        ...SERVICE_FUNCTION_ESBUILD_OPTIONS,
        entryPoints: [...outputs].map(([entry, key]) => ({ in: entry, out: `${key}/index` })),
        outdir,
        write: true,
        metafile: true,
      });
    } catch (error) {
      const failure = error as {
        errors?: Array<{ text: string; location?: { file: string; line: number } }>;
      };
      const details = (failure.errors ?? [])
        .map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text))
        .join('; ');
      throw new Error(
        `ServiceFunction: bundling failed for ${entries.length === 1 ? 'entry' : 'one of the entries'} ${entries.join(', ')}: ${details || (error as Error).message}`,
      );
    }
    this.builds += 1;
    for (const warning of result.warnings) {
      // Warnings (e.g. a dynamic require esbuild cannot follow) matter at deploy time: show them.
      process.stderr.write(`esbuild warning: ${warning.text}\n`);
    }
    const cache = this.bundleCache();
    for (const [entry, key] of outputs) {
      const directory = path.join(outdir, key);
      makeSourceMapPortable(path.join(directory, `${BUNDLE_FILE}.map`), entry);
      // Metafile paths are relative to the working directory esbuild ran in.
      const output =
        result.metafile!.outputs[path.relative(process.cwd(), path.join(directory, BUNDLE_FILE))];
      const inputs = Object.keys(output?.inputs ?? {}).map((input) => path.resolve(input));
      if (output) this.inputs.set(entry, inputs);
      if (cache) {
        this.built.set(entry, output ? cache.store(key, directory, inputs) : directory);
      } else {
        this.built.set(entry, directory);
      }
    }
  }
}

/** A folder name per entry: readable, and unique even when two entries share a file name. */
function outputKey(entry: string): string {
  const digest = createHash('sha256').update(entry).digest('hex').slice(0, 12);
  return `${path.basename(entry, path.extname(entry))}-${digest}`;
}

/**
 * esbuild writes source paths relative to the (temporary) output folder, which would make every asset hash,
 * and so every deployment, depend on where the build ran. Rewrite them relative to the entry's project
 * root (the folder of the nearest package.json), e.g. `functions/orders/handlers/place-order.ts`.
 */
function makeSourceMapPortable(mapFile: string, entry: string): void {
  const map = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sources: string[] };
  const base = projectRootOf(entry);
  const from = path.dirname(mapFile);
  map.sources = map.sources.map((source) =>
    path.relative(base, path.resolve(from, source)).split(path.sep).join('/'),
  );
  fs.writeFileSync(mapFile, JSON.stringify(map));
}

function projectRootOf(entry: string): string {
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(entry);
    dir = parent;
  }
  return dir;
}

/** Build folders are scratch space: every asset is copied out of them into the cloud assembly. */
function removeOnExit(dir: string): void {
  if (scratchDirs.size === 0) {
    process.once('exit', () => {
      for (const d of scratchDirs) {
        fs.rmSync(d, { recursive: true, force: true });
        try {
          fs.rmdirSync(path.dirname(d)); // the shared parent, once no other synth is using it
        } catch {
          // Not empty (a parallel synth) or already gone.
        }
      }
    });
  }
  scratchDirs.add(dir);
}
