import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as EsbuildApi from 'esbuild';
import type { BuildContext, BuildResult, Message } from 'esbuild';
import type { BundleSources } from '../lib/constructs/bundle-cache';
import { readBundleSources } from '../lib/constructs/bundle-cache';
import type { LocalFunction } from './model';

/** Quiet time after the last file event before a rebuild starts: an editor's save is several events. */
const DEFAULT_DEBOUNCE_MS = 30;
/** Delay before the build context of a function that was just invoked is warmed up (after its cold start). */
const WARM_UP_DELAY_MS = 500;
/** Functions named one by one in a reload line; more are counted. */
const NAMED_FUNCTIONS = 3;
/** The bundle's code file (see the function bundler), and its source map next to it. */
const CODE_FILE = 'index.mjs';

/** Options of {@link SourceWatcher}. */
export interface SourceWatcherOptions {
  /** The functions to keep up to date with their sources. */
  readonly functions: ReadonlyMap<string, LocalFunction>;
  /** Receives the `[reload] …` lines and build errors. */
  readonly log: (line: string) => void;
  /** Makes the function run the bundle now in `bundleDir` (see `FunctionRunner.reload`). */
  readonly reload: (functionKey: string, bundleDir: string) => void;
  /**
   * Quiet time after the last change of a source file before rebuilding, in milliseconds.
   * @default 30
   */
  readonly debounceMs?: number;
  /**
   * Folder that file names in the reload lines are relative to.
   * @default - the project of the function's entry (the folder of its nearest package.json)
   */
  readonly root?: string;
}

/** Functions made from one bundle (usually one function), rebuilt together. */
interface Unit {
  /** Short folder name of the unit's rebuilt bundles. */
  readonly id: string;
  readonly functions: readonly LocalFunction[];
  readonly sources: BundleSources;
  /** Folder file names are shown relative to. */
  readonly root: string;
  /** The files the unit's bundle is made of, outside node_modules (what is watched). */
  inputs: readonly string[];
  /** SHA-256 of the code the functions run now. */
  current: string;
  /** Rebuilt bundles written so far (each in a folder of its own). */
  versions: number;
  context?: Promise<BuildContext>;
  /** Builds of this unit run one after the other. */
  queue: Promise<unknown>;
  /** Invoked since watching started: rebuilt as soon as its sources change (its build context is warm). */
  used: boolean;
  /**
   * Its sources changed while it was not in use: it is rebuilt before its next invocation instead of on
   * every change (functions nobody calls cost no rebuilds, and do not slow down the ones in use).
   */
  stale: boolean;
  /** The rebuild its next invocation waits for, while it runs. */
  preparing?: Promise<void>;
}

type Rebuilt =
  | { readonly unit: Unit; readonly outcome: 'reloaded' | 'unchanged' }
  | {
      readonly unit: Unit;
      readonly outcome: 'failed';
      readonly errors: readonly Message[];
      readonly text: string;
    };

/**
 * Hot reload of handler code. For each function it reads what its bundle was made of (recorded at synth
 * next to the cloud assembly's assets, see `recordBundleSources`), watches those files (their folders, so
 * editors that save by writing a new file and renaming it over the old one are seen), and after a change
 * rebuilds the functions made from the changed files with an incremental esbuild context on the bundler's
 * own options, then hands each new bundle to `reload`. A build error is printed and the previous code keeps
 * serving. Sources under `node_modules` are not watched (installed packages change by installing).
 */
export class SourceWatcher {
  private readonly units: Unit[] = [];
  private readonly unitsByKey = new Map<string, Unit>();
  /** Watched file → the units whose bundle it is part of. */
  private readonly dependents = new Map<string, Set<Unit>>();
  /** Watched file → SHA-256 of its content when last seen (`undefined`: missing). */
  private readonly hashes = new Map<string, string | undefined>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly pending = new Set<string>();
  private readonly warmUps: Unit[] = [];
  private readonly debounceMs: number;
  private outRoot: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private warming = false;
  private stopped = false;

  constructor(private readonly options: SourceWatcherOptions) {
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  /** Reads what every function is made of and starts watching; prints what is watched. */
  start(): void {
    const byAsset = new Map<string, LocalFunction[]>();
    for (const fn of this.options.functions.values()) {
      if (!fn.assetDir) continue;
      byAsset.set(fn.assetDir, [...(byAsset.get(fn.assetDir) ?? []), fn]);
    }
    const unrecorded: string[] = [];
    for (const [assetDir, functions] of byAsset) {
      const sources = readBundleSources(assetDir);
      if (!sources) {
        unrecorded.push(...functions.map(labelOf));
        continue;
      }
      const unit: Unit = {
        id: `${path.basename(sources.entry, path.extname(sources.entry))}-${digest(assetDir).slice(0, 8)}`,
        functions,
        sources,
        root: this.options.root ?? projectRootOf(sources.entry),
        inputs: [],
        current: digestOfFile(path.join(assetDir, CODE_FILE)) ?? '',
        versions: 0,
        queue: Promise.resolve(),
        used: false,
        stale: false,
      };
      this.units.push(unit);
      for (const fn of functions) this.unitsByKey.set(fn.key, unit);
      this.setInputs(unit, sources.inputs);
    }
    this.syncWatchers();
    const { log } = this.options;
    log(
      `[reload] watching ${this.dependents.size} source files of ${this.unitsByKey.size} functions: ` +
        'a change is rebuilt and served by the next request',
    );
    if (unrecorded.length > 0) {
      log(
        `[reload] not reloaded (no sources recorded when the app was synthesized): ${unrecorded.join(', ')}`,
      );
    }
  }

  /**
   * Called before each invocation of a function. The first time, its build context is prepared in the
   * background (a first esbuild build), so that its reloads are incremental rebuilds. When its sources
   * changed while it was not in use, returns the rebuild the invocation must wait for (so it never runs
   * outdated code); otherwise `undefined`.
   */
  prepare(functionKey: string): Promise<void> | undefined {
    const unit = this.unitsByKey.get(functionKey);
    if (!unit || this.stopped) return undefined;
    if (unit.preparing) return unit.preparing;
    if (unit.stale) {
      unit.used = true;
      unit.stale = false;
      unit.preparing = this.rebuildBeforeUse(unit).finally(() => {
        unit.preparing = undefined;
      });
      return unit.preparing;
    }
    if (!unit.used) {
      unit.used = true;
      this.warmUps.push(unit);
      if (!this.warming) {
        this.warming = true;
        setTimeout(() => void this.warmUp(), WARM_UP_DELAY_MS).unref();
      }
    }
    return undefined;
  }

  /** The source files watched now (absolute paths). */
  sources(): string[] {
    return [...this.dependents.keys()];
  }

  /** Stops watching, disposes of the build contexts and deletes the rebuilt bundles. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.running?.catch(() => undefined);
    await Promise.all(
      this.units.map(async (unit) => {
        await unit.queue.catch(() => undefined);
        const context = await unit.context?.catch(() => undefined);
        await context?.dispose();
      }),
    );
    if (this.outRoot) fs.rmSync(this.outRoot, { recursive: true, force: true });
  }

  /** Records a unit's inputs (absolute paths) and which of them are watched. */
  private setInputs(unit: Unit, inputs: readonly string[]): void {
    for (const file of unit.inputs) this.dependents.get(file)?.delete(unit);
    unit.inputs = inputs.filter((file) => path.isAbsolute(file) && !isInstalled(file));
    for (const file of unit.inputs) {
      let units = this.dependents.get(file);
      if (!units) {
        units = new Set();
        this.dependents.set(file, units);
      }
      units.add(unit);
      if (!this.hashes.has(file)) this.hashes.set(file, digestOfFile(file));
    }
    for (const [file, units] of this.dependents) {
      if (units.size === 0) {
        this.dependents.delete(file);
        this.hashes.delete(file);
      }
    }
  }

  /** One watcher per folder holding watched files (a file's own watcher would lose it on rename). */
  private syncWatchers(): void {
    if (this.stopped) return;
    const folders = new Set([...this.dependents.keys()].map((file) => path.dirname(file)));
    for (const [folder, watcher] of this.watchers) {
      if (!folders.has(folder)) {
        watcher.close();
        this.watchers.delete(folder);
      }
    }
    for (const folder of folders) {
      if (this.watchers.has(folder)) continue;
      try {
        const watcher = fs.watch(folder, { persistent: false }, (_event, name) =>
          this.changed(folder, name === null ? undefined : String(name)),
        );
        watcher.on('error', () => {
          // The folder went away; a later rebuild's inputs decide whether it is watched again.
          watcher.close();
          this.watchers.delete(folder);
        });
        this.watchers.set(folder, watcher);
      } catch {
        // The folder is gone (an input deleted since the synth): nothing to watch there.
      }
    }
  }

  private changed(folder: string, name: string | undefined): void {
    if (this.stopped) return;
    if (name !== undefined) {
      const file = path.join(folder, name);
      if (!this.dependents.has(file)) return;
      this.pending.add(file);
    } else {
      for (const file of this.dependents.keys()) if (path.dirname(file) === folder) this.pending.add(file);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.debounceMs);
  }

  /** Rebuilds for the pending changes; changes seen meanwhile are handled right after. */
  private flush(): void {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      while (this.pending.size > 0 && !this.stopped) await this.rebuildChanged();
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async rebuildChanged(): Promise<void> {
    const changed: string[] = [];
    for (const file of this.pending) {
      const hash = digestOfFile(file);
      // Saved again with the same content, or an event of a neighbouring file: nothing to do.
      if (hash === this.hashes.get(file)) continue;
      this.hashes.set(file, hash);
      changed.push(file);
    }
    this.pending.clear();
    if (changed.length === 0) return;
    const units = new Set<Unit>();
    for (const file of changed) for (const unit of this.dependents.get(file) ?? []) units.add(unit);
    const started = performance.now();
    const inUse = [...units].filter((unit) => unit.used);
    const deferred = [...units].filter((unit) => !unit.used);
    for (const unit of deferred) unit.stale = true;
    const results = await Promise.all(inUse.map((unit) => this.rebuild(unit)));
    if (this.stopped) return;
    const elapsed = Math.round(performance.now() - started);
    this.syncWatchers();
    const files = changed.map((file) => display(results[0]?.unit.root ?? deferred[0].root, file));
    this.report(`${files.join(', ')} changed`, results, elapsed, deferred.length);
  }

  /** Rebuilds a function whose sources changed while nobody called it, before its first invocation. */
  private async rebuildBeforeUse(unit: Unit): Promise<void> {
    const started = performance.now();
    const result = await this.rebuild(unit);
    if (this.stopped) return;
    this.syncWatchers();
    this.report(
      'first request since its sources changed',
      [result],
      Math.round(performance.now() - started),
      0,
    );
  }

  /** Rebuilds one unit and, when its code changed, hands the new bundle to `reload`. */
  private rebuild(unit: Unit): Promise<Rebuilt> {
    const run = async (): Promise<Rebuilt> => {
      let result: BuildResult<{ write: false; metafile: true }>;
      try {
        result = (await (await this.contextOf(unit)).rebuild()) as typeof result;
      } catch (error) {
        const errors = (error as { errors?: Message[] }).errors ?? [];
        // Locations relative to the project, like the reload lines (esbuild's are relative to the synth's cwd).
        const located = errors.map((message) =>
          message.location
            ? {
                ...message,
                location: {
                  ...message.location,
                  file: display(
                    unit.root,
                    path.resolve(unit.sources.workingDirectory, message.location.file),
                  ),
                },
              }
            : message,
        );
        const text =
          errors.length > 0
            ? esbuild().formatMessagesSync(located, { kind: 'error', color: false }).join('').trimEnd()
            : String((error as Error).message ?? error);
        return { unit, outcome: 'failed', errors, text };
      }
      this.setInputs(
        unit,
        Object.keys(result.metafile.inputs).map((input) =>
          path.resolve(unit.sources.workingDirectory, input),
        ),
      );
      const code = result.outputFiles.find((file) => path.basename(file.path) === CODE_FILE);
      if (!code) {
        return { unit, outcome: 'failed', errors: [], text: `esbuild wrote no ${CODE_FILE}` };
      }
      const hash = digest(code.contents);
      if (hash === unit.current) return { unit, outcome: 'unchanged' };
      // Each version in a folder of its own, at the depth of the build's outdir (the map's relative
      // sources stay right): environments still running the previous version keep their files.
      unit.versions += 1;
      const folder = path.join(this.outRootOf(), unit.id, String(unit.versions));
      fs.mkdirSync(folder, { recursive: true });
      for (const file of result.outputFiles) {
        fs.writeFileSync(path.join(folder, path.basename(file.path)), file.contents);
      }
      if (this.stopped) return { unit, outcome: 'unchanged' };
      unit.current = hash;
      for (const fn of unit.functions) this.options.reload(fn.key, folder);
      // Versions before the previous one have no environment left that could still read their source map.
      fs.rmSync(path.join(this.outRootOf(), unit.id, String(unit.versions - 2)), {
        recursive: true,
        force: true,
      });
      return { unit, outcome: 'reloaded' };
    };
    const next = unit.queue.then(run, run);
    unit.queue = next.catch(() => undefined);
    return next;
  }

  /** The unit's incremental build context: the bundler's options, output kept in memory. */
  private contextOf(unit: Unit): Promise<BuildContext> {
    unit.context ??= esbuild().context({
      ...(unit.sources.options as EsbuildApi.BuildOptions),
      entryPoints: [{ in: unit.sources.entry, out: path.basename(CODE_FILE, path.extname(CODE_FILE)) }],
      outdir: path.join(this.outRootOf(), unit.id, 'build'),
      absWorkingDir: unit.sources.workingDirectory,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    return unit.context;
  }

  /** Folder of the rebuilt bundles, created on the first rebuild. */
  private outRootOf(): string {
    this.outRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-microservices-reload-'));
    return this.outRoot;
  }

  /** Prepares the build contexts of the functions that were used, one at a time, in the background. */
  private async warmUp(): Promise<void> {
    for (let unit = this.warmUps.shift(); unit && !this.stopped; unit = this.warmUps.shift()) {
      const warming = unit;
      const build = async () => {
        const result = await (await this.contextOf(warming)).rebuild();
        if (!this.stopped && result.metafile) {
          const inputs = Object.keys(result.metafile.inputs);
          this.setInputs(
            warming,
            inputs.map((input) => path.resolve(warming.sources.workingDirectory, input)),
          );
          this.syncWatchers();
        }
      };
      // A failing build (a file being edited) is reported by the rebuild that follows the edit.
      warming.queue = warming.queue.then(build, build).catch(() => undefined);
      await warming.queue;
    }
    this.warming = false;
  }

  /** Prints what a change did: `[reload] <what>: <functions> rebuilt in N ms`, or the build errors. */
  private report(what: string, results: readonly Rebuilt[], elapsedMs: number, deferred: number): void {
    const { log } = this.options;
    const later =
      deferred > 0
        ? ` (${deferred} not invoked yet: rebuilt before ${deferred === 1 ? 'its' : 'their'} next request)`
        : '';
    if (results.length === 0) {
      log(`[reload] ${what}: no function in use${later}`);
      return;
    }
    const reloaded = results.filter((result) => result.outcome === 'reloaded');
    const unchanged = results.filter((result) => result.outcome === 'unchanged');
    if (reloaded.length > 0) {
      log(`[reload] ${what}: ${describeUnits(reloaded)} rebuilt in ${elapsedMs} ms${later}`);
    }
    if (unchanged.length > 0 && reloaded.length === 0 && results.length === unchanged.length) {
      log(`[reload] ${what}: the code of ${describeUnits(unchanged)} is the same, nothing to reload${later}`);
    }
    // The same error (a shared module) is printed once for every function it broke.
    const failures = new Map<string, Rebuilt[]>();
    for (const result of results) {
      if (result.outcome !== 'failed') continue;
      failures.set(result.text, [...(failures.get(result.text) ?? []), result]);
    }
    for (const [text, failed] of failures) {
      log(
        `[reload] ${what}: the build of ${describeUnits(failed)} failed; ` +
          'the previous code keeps serving',
      );
      for (const line of text.split('\n')) log(line);
    }
  }
}

/** `file` relative to `root` when it is inside it, with forward slashes; otherwise absolute. */
function display(root: string, file: string): string {
  const relative = path.relative(root, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}

/** The folder of the nearest package.json above `entry` (the folder of `entry` when there is none). */
function projectRootOf(entry: string): string {
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(entry);
  }
}

type EsbuildModule = typeof EsbuildApi;

/** esbuild is a peer dependency, loaded when the first function is rebuilt. */
function esbuild(): EsbuildModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild');
}

/** A function as the reload lines name it: its description (e.g. `orders: POST /orders`) or its name. */
function labelOf(fn: LocalFunction): string {
  return fn.description || fn.name;
}

function describeUnits(results: readonly Rebuilt[]): string {
  const labels = results.flatMap((result) => result.unit.functions.map(labelOf)).sort();
  if (labels.length <= NAMED_FUNCTIONS) return labels.join(', ');
  return `${labels.length} functions (${labels.slice(0, NAMED_FUNCTIONS).join(', ')}, …)`;
}

/** Installed packages change by installing, which a running runtime does not follow. */
function isInstalled(file: string): boolean {
  return file.split(path.sep).includes('node_modules');
}

function digest(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function digestOfFile(file: string): string | undefined {
  try {
    return digest(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}
