import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Environment variable that moves the bundle cache (a folder) or turns it off (`off`). */
export const BUNDLE_CACHE_VARIABLE = 'CDK_MICROSERVICES_BUNDLE_CACHE';

const FILES = ['index.mjs', 'index.mjs.map'];

interface Manifest {
  /** Bundler settings the bundle was built with (options, esbuild version, lockfile, tsconfig). */
  readonly settings: string;
  /** Every file esbuild read for the bundle, with its SHA-256. */
  readonly inputs: Record<string, string>;
  /** Folder (under the cache) holding the bundle's files; immutable once written. */
  readonly folder: string;
}

/**
 * Bundles kept between synths, keyed by content: a bundle is reused only when the bundler settings are the
 * same and every file esbuild read for it (from the build's metafile) still has the same SHA-256. A synth
 * after editing one handler rebuilds that handler (and whatever imports the edited file) and nothing else.
 * Writes are atomic (content-addressed folders, manifests renamed into place), so parallel synths sharing
 * a cache cannot mix one bundle's files with another's manifest.
 */
export class BundleCache {
  /**
   * The cache configured by the environment: the folder named by CDK_MICROSERVICES_BUNDLE_CACHE, or
   * `node_modules/.cache/cdk-microservices/bundles` of the project the process runs in; `undefined` when
   * the variable says `off` or there is no node_modules folder to keep it in.
   */
  public static fromEnvironment(settings: string): BundleCache | undefined {
    const configured = process.env[BUNDLE_CACHE_VARIABLE];
    if (configured && ['off', 'false', '0'].includes(configured.toLowerCase())) return undefined;
    if (configured) return new BundleCache(path.resolve(configured), settings);
    const modules = nearestNodeModules(process.cwd());
    return modules
      ? new BundleCache(path.join(modules, '.cache', 'cdk-microservices', 'bundles'), settings)
      : undefined;
  }

  private readonly hashes = new Map<string, string | undefined>();

  private constructor(
    public readonly directory: string,
    private readonly settings: string,
  ) {}

  /** The folder of a still-valid cached bundle of `entry`, or `undefined`. */
  public lookup(entry: string, key: string): string | undefined {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(this.manifestPath(key), 'utf8')) as Manifest;
    } catch {
      return undefined;
    }
    if (manifest.settings !== this.settings || !manifest.inputs[entry]) return undefined;
    for (const [file, hash] of Object.entries(manifest.inputs)) {
      if (this.hashOf(file) !== hash) return undefined;
    }
    const folder = path.join(this.directory, manifest.folder);
    return FILES.every((file) => fs.existsSync(path.join(folder, file))) ? folder : undefined;
  }

  /** The files a cached bundle was built from (absolute paths), as recorded when it was stored. */
  public inputsOf(key: string): string[] | undefined {
    try {
      const manifest = JSON.parse(fs.readFileSync(this.manifestPath(key), 'utf8')) as Manifest;
      return Object.keys(manifest.inputs);
    } catch {
      return undefined;
    }
  }

  /** Keeps a freshly built bundle (the folder `built`, read from `inputs`); returns where it now lives. */
  public store(key: string, built: string, inputs: readonly string[]): string {
    const digest = createHash('sha256');
    for (const file of FILES) digest.update(fs.readFileSync(path.join(built, file)));
    const folder = `${key}-${digest.digest('hex').slice(0, 16)}`;
    const target = path.join(this.directory, folder);
    if (!fs.existsSync(target)) {
      const staging = `${target}.${process.pid}.tmp`;
      fs.mkdirSync(staging, { recursive: true });
      for (const file of FILES) fs.copyFileSync(path.join(built, file), path.join(staging, file));
      try {
        fs.renameSync(staging, target);
      } catch {
        // Another synth stored the same content first: theirs is identical.
        fs.rmSync(staging, { recursive: true, force: true });
      }
    }
    const hashed: Record<string, string> = {};
    for (const file of inputs) {
      const hash = this.hashOf(file);
      if (hash) hashed[file] = hash;
    }
    const manifest: Manifest = { settings: this.settings, inputs: hashed, folder };
    const temporary = `${this.manifestPath(key)}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(manifest));
    fs.renameSync(temporary, this.manifestPath(key));
    return target;
  }

  private manifestPath(key: string): string {
    return path.join(this.directory, `${key}.json`);
  }

  /** SHA-256 of a file's content, once per file per synth; `undefined` for files that are gone. */
  private hashOf(file: string): string | undefined {
    if (!this.hashes.has(file)) {
      let hash: string | undefined;
      try {
        hash = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      } catch {
        hash = undefined;
      }
      this.hashes.set(file, hash);
    }
    return this.hashes.get(file);
  }
}

/**
 * What, besides the inputs, decides a bundle's bytes: the options, the esbuild version, and the project
 * files that steer module resolution (lockfile, tsconfig) of the folder the synth runs in.
 */
export function bundleSettings(options: unknown, esbuildVersion: string): string {
  const digest = createHash('sha256').update(JSON.stringify({ options, esbuildVersion }));
  for (const file of ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'tsconfig.json']) {
    const candidate = path.join(process.cwd(), file);
    if (fs.existsSync(candidate)) digest.update(file).update(fs.readFileSync(candidate));
  }
  return digest.digest('hex');
}

function nearestNodeModules(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'node_modules');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * What a bundle was made of, recorded at synth next to the cloud assembly's assets (not in them, so asset
 * hashes and templates stay as they are) for the local runtime's hot reload: it rebuilds a function from
 * its entry with the same options when one of its inputs changes.
 */
export interface BundleSources {
  /** Absolute path of the function's entry (the handler file). */
  readonly entry: string;
  /** Absolute paths of every file esbuild read for the bundle, the entry included. */
  readonly inputs: readonly string[];
  /** The esbuild options the bundle was built with (without entry points and output folder). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The working directory esbuild ran in (metafile paths are relative to it). */
  readonly workingDirectory: string;
}

/** Folder of the cloud assembly holding one {@link BundleSources} file per bundle. */
const SOURCES_FOLDER = path.join('.cdk-microservices', 'sources');

/**
 * Records what the bundle in `bundleDir` (a folder holding `index.mjs` and `index.mjs.map`) was made of, in
 * the cloud assembly `assemblyDir`; {@link readBundleSources} finds it again from the staged asset folder.
 */
export function recordBundleSources(assemblyDir: string, bundleDir: string, sources: BundleSources): void {
  const folder = path.join(assemblyDir, SOURCES_FOLDER);
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${bundleDigest(bundleDir)}.json`);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(sources));
  fs.renameSync(temporary, file);
}

/**
 * What the bundle staged in `assetDir` (an `asset.*` folder of a cloud assembly) was made of, as
 * {@link recordBundleSources} recorded it at synth; `undefined` when nothing was recorded (an assembly
 * synthesized by an older version, or a bundle not made by the function bundler).
 */
export function readBundleSources(assetDir: string): BundleSources | undefined {
  try {
    const file = path.join(path.dirname(assetDir), SOURCES_FOLDER, `${bundleDigest(assetDir)}.json`);
    return JSON.parse(fs.readFileSync(file, 'utf8')) as BundleSources;
  } catch {
    return undefined;
  }
}

/** A bundle's identity: the SHA-256 of its code and source map (the map names the sources). */
function bundleDigest(bundleDir: string): string {
  const digest = createHash('sha256');
  for (const file of FILES) digest.update(fs.readFileSync(path.join(bundleDir, file)));
  return digest.digest('hex').slice(0, 32);
}
