/**
 * A CDK app as the cdk CLI sees it: the folder holding `cdk.json`, its `app` command and its context. The local
 * runtime synthesizes any app the way `cdk synth` does: it runs the `app` command in the app's folder with
 * `CDK_OUTDIR` and `CDK_CONTEXT_JSON` set, and reads the cloud assembly the app writes.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** What `cdk.json` tells the CLI about an app. */
export interface CdkAppConfig {
  /** Absolute folder of the app (where `cdk.json` is). */
  readonly dir: string;
  /** The `app` command, as written in `cdk.json`. */
  readonly app: string;
  /** `context` of `cdk.json`, with `cdk.context.json` merged over it (as the cdk CLI does). */
  readonly context: Readonly<Record<string, unknown>>;
  /** `watch.include` of `cdk.json` (globs relative to the app's folder), when given. */
  readonly watchInclude?: readonly string[];
}

/** Raised for what the user must fix (no cdk.json, no app command, a failing synth): printed without a stack. */
export class UserError extends Error {
  /** Exit code the CLI ends with. */
  public readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Reads `cdk.json` (and `cdk.context.json`) of the app in `dir`. */
export function readCdkApp(dir: string): CdkAppConfig {
  const folder = path.resolve(dir);
  const file = path.join(folder, 'cdk.json');
  if (!fs.existsSync(file)) {
    throw new UserError(
      `No cdk.json in ${folder}: run cdk-microservices in the folder of a CDK app (or name one with --with <path>).`,
    );
  }
  let json: { app?: unknown; context?: Record<string, unknown>; watch?: { include?: unknown } };
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof json;
  } catch (error) {
    throw new UserError(
      `${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof json.app !== 'string' || json.app.trim() === '') {
    throw new UserError(`${file} has no "app" command (e.g. "app": "npx tsx bin/app.ts").`);
  }
  const contextFile = path.join(folder, 'cdk.context.json');
  const saved = fs.existsSync(contextFile)
    ? (JSON.parse(fs.readFileSync(contextFile, 'utf8')) as Record<string, unknown>)
    : {};
  const include = json.watch?.include;
  return {
    dir: folder,
    app: json.app.trim(),
    context: { ...(json.context ?? {}), ...saved },
    ...(Array.isArray(include) ? { watchInclude: include.map(String) } : {}),
  };
}

/** Shell metacharacters: an app command with any of them is run through the shell, as the cdk CLI does. */
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?[\]#~=%{}\n]/;

/**
 * The command that runs the app: `npx <bin> ...` becomes `node_modules/.bin/<bin> ...` when that file exists in
 * the app's folder or above (npx costs a second or more to start) — `npx tsx file.ts` becomes
 * `node --import <tsx's loader> file.ts` — a `.js` file runs under node, and anything else runs through the shell
 * as written.
 */
export function resolveAppCommand(config: CdkAppConfig): { command: string; args: string[]; shell: boolean } {
  const words = config.app.split(/\s+/);
  if (SHELL_SYNTAX.test(config.app)) return { command: config.app, args: [], shell: true };
  if (words[0] === 'npx') {
    let index = 1;
    while (words[index] === '--yes' || words[index] === '-y' || words[index] === '--no-install') index++;
    const bin = words[index];
    const local = bin ? binOf(config.dir, bin) : undefined;
    const args = words.slice(index + 1);
    const loader =
      bin === 'tsx' && local && args[0] && !args[0].startsWith('-') ? tsxLoader(local) : undefined;
    // `tsx file` starts a second node process to run the file; node with tsx's loader runs it in one.
    if (loader) return { command: process.execPath, args: ['--import', loader, ...args], shell: false };
    if (local) return { command: local, args, shell: false };
    return { command: config.app, args: [], shell: true };
  }
  if (words.length === 1 && /\.[cm]?js$/.test(words[0])) {
    return { command: process.execPath, args: [words[0]], shell: false };
  }
  return { command: words[0], args: words.slice(1), shell: false };
}

/** The file URL of tsx's loader (`node --import <it> file.ts` runs what `tsx file.ts` runs), from its bin link. */
function tsxLoader(bin: string): string | undefined {
  try {
    // node_modules/.bin/tsx → node_modules/tsx/dist/cli.mjs
    const loader = path.join(path.dirname(path.dirname(fs.realpathSync(bin))), 'dist', 'loader.mjs');
    return fs.existsSync(loader) ? pathToFileURL(loader).href : undefined;
  } catch {
    return undefined;
  }
}

function binOf(start: string, bin: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', '.bin', bin);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Options of {@link synthesizeApp}. */
export interface SynthesizeOptions {
  /** Where the cloud assembly is written (emptied first). */
  readonly outdir: string;
  /** Context set on top of `cdk.json`'s (e.g. `{ env: 'local' }`). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Receives the app's output lines (bundling notes, warnings). @default - dropped unless the synth fails */
  readonly log?: (line: string) => void;
  /**
   * Whether aws-cdk-lib's built-in CloudFormation schema validation of the templates runs (`CDK_VALIDATION`). It is
   * most of a synth's time (about 4 of 5.5 CPU seconds for the reference system); the app's own validation plugins
   * (cdk-nag's packs through `addSecurityChecks`) run either way. A `CDK_VALIDATION` already set wins.
   * @default true
   */
  readonly validateTemplates?: boolean;
}

/**
 * Synthesizes the app into `outdir` as `cdk synth` would: the `app` command runs in the app's folder with
 * `CDK_OUTDIR` and `CDK_CONTEXT_JSON` (cdk.json's context, cdk.context.json, then `options.context`). Rejects with
 * the app's output when it fails or writes no assembly. An `app` that names a folder is taken as an assembly.
 */
export async function synthesizeApp(config: CdkAppConfig, options: SynthesizeOptions): Promise<string> {
  const asFolder = path.resolve(config.dir, config.app);
  if (fs.existsSync(path.join(asFolder, 'manifest.json'))) return asFolder;
  fs.rmSync(options.outdir, { recursive: true, force: true });
  fs.mkdirSync(options.outdir, { recursive: true });
  const context = { ...config.context, ...(options.context ?? {}) };
  const json = JSON.stringify(context);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_OUTDIR: options.outdir,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
  };
  if (options.validateTemplates === false) env.CDK_VALIDATION ??= 'false';
  // The app's node processes list the files they load (see loaded-files.cjs), for the runtime's watch.
  const preload = loadedFilesPreload();
  if (preload) {
    env.NODE_OPTIONS = [env.NODE_OPTIONS, `--require ${JSON.stringify(preload)}`].filter(Boolean).join(' ');
    env[LOADED_FILES_VARIABLE] = path.join(options.outdir, LOADED_FILES);
  }
  // The cdk CLI hands large contexts over in a file (environment variables are limited in size).
  let overflow: string | undefined;
  if (json.length > 32_000) {
    overflow = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-context-')), 'context.json');
    fs.writeFileSync(overflow, json);
    env.CONTEXT_OVERFLOW_LOCATION_ENV = overflow;
    delete env.CDK_CONTEXT_JSON;
  } else {
    env.CDK_CONTEXT_JSON = json;
  }
  const { command, args, shell } = resolveAppCommand(config);
  const output: string[] = [];
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, { cwd: config.dir, env, shell, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          output.push(line);
          options.log?.(line);
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) {
      throw new UserError(
        `The app in ${config.dir} failed to synthesize ("${config.app}" exited with ${code}):\n${output.slice(-40).join('\n')}`,
      );
    }
  } finally {
    if (overflow) fs.rmSync(path.dirname(overflow), { recursive: true, force: true });
  }
  if (!fs.existsSync(path.join(options.outdir, 'manifest.json'))) {
    throw new UserError(
      `"${config.app}" in ${config.dir} wrote no cloud assembly to CDK_OUTDIR (does it create an App and synthesize?)`,
    );
  }
  return options.outdir;
}

/** Environment variable naming the file the app's processes append the files they loaded to. */
const LOADED_FILES_VARIABLE = 'CDK_MICROSERVICES_LOADED_FILES';
/** That file, in the assembly folder (the cdk CLI and the runtime ignore files they do not know there). */
const LOADED_FILES = '.loaded-files';

/**
 * The preload that lists the files an app loads (local/cli/loaded-files.cjs): next to this module when it runs
 * from the sources or from dist (the build copies it), else in the package's `local/cli` folder.
 */
function loadedFilesPreload(): string | undefined {
  return [
    path.join(__dirname, 'loaded-files.cjs'),
    path.join(__dirname, '..', '..', '..', 'local', 'cli', 'loaded-files.cjs'),
  ].find((candidate) => fs.existsSync(candidate));
}

/**
 * The source files the synth into `assemblyDir` loaded through `require` (a CommonJS app run by tsx, ts-node or
 * node), outside `node_modules`; `undefined` when none were recorded (an ES module app, an app that is not run
 * by node, an assembly folder given as the app).
 */
export function loadedFiles(assemblyDir: string): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(assemblyDir, LOADED_FILES), 'utf8');
  } catch {
    return undefined;
  }
  const files = [
    ...new Set(
      text
        .split('\n')
        .filter((file) => path.isAbsolute(file) && !/[/\\]node_modules[/\\]/.test(file))
        .filter((file) => fs.existsSync(file)),
    ),
  ].sort();
  return files.length > 0 ? files : undefined;
}

/** Folders of runtimes under `cdk.out.local/`: `dev-{pid}-{n}` (with `.next`/`.previous` during a reload). */
export const OWN_ASSEMBLY = /^dev-(\d+)-\d+(\.next|\.previous)?$/;
let runtimes = 0;

/**
 * A folder for this runtime's assembly of the app in `appDir`, `cdk.out.local/dev-{pid}-{n}`: runtimes running the
 * same app at once (a `dev` and a test, two `--with` of one checkout) do not overwrite each other's assemblies.
 * Folders of processes that are gone are removed.
 */
export function privateAssemblyDir(appDir: string): string {
  const root = path.join(appDir, 'cdk.out.local');
  for (const name of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    const pid = Number(OWN_ASSEMBLY.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) {
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
  runtimes += 1;
  return path.join(root, `dev-${process.pid}-${runtimes}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The context of a local synth. */
export const LOCAL_SYNTH_CONTEXT: Readonly<Record<string, unknown>> = { env: 'local' };

/** A local synth started early, into a runtime's own folder. */
export interface EarlySynth {
  readonly assemblyDir: string;
  readonly done: Promise<string>;
}

/**
 * Starts the local synth of each app (folders holding cdk.json) at once, into folders of its own, as the runtime
 * would: the CLI calls it before loading the runtime's modules, so the two overlap. Apps whose cdk.json cannot
 * be read are left out (the runtime reports them).
 */
export function startEarlySynth(appDirs: readonly string[]): Map<string, EarlySynth> {
  const started = new Map<string, EarlySynth>();
  for (const dir of appDirs) {
    let config: CdkAppConfig;
    try {
      config = readCdkApp(dir);
    } catch {
      continue;
    }
    if (started.has(config.dir)) continue;
    const assemblyDir = privateAssemblyDir(config.dir);
    const done = synthesizeApp(config, {
      outdir: assemblyDir,
      context: LOCAL_SYNTH_CONTEXT,
      validateTemplates: false,
    });
    // Awaited by the runtime; a failure must not be reported as unhandled before that.
    done.catch(() => undefined);
    started.set(config.dir, { assemblyDir, done });
  }
  return started;
}
