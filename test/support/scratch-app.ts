import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A team's app in a scratch folder outside this repository, built from the packed library as a new team would
 * build it: `npm pack` of this repository, the tarball and the documented peers installed with npm, commands run
 * with npx. Used by the package-based consumer test (test/app/consumer-app.test.ts).
 */

/** Repository root. */
export const ROOT = path.join(__dirname, '..', '..');

/** What a finished command printed and how it ended. */
export interface CommandResult {
  readonly command: string;
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time in seconds. */
  readonly seconds: number;
}

/** npm settings that say where packages come from; every other `npm_*` variable of a parent npm is dropped. */
const NPM_SETTINGS = new Set(
  [
    'cache',
    'registry',
    'userconfig',
    'globalconfig',
    'cafile',
    'proxy',
    'https_proxy',
    'noproxy',
    'strict_ssl',
  ].map((name) => `npm_config_${name}`),
);

/** What test/setup-env.ts sets for unit tests, and what would point a child at this repository or its runtime. */
const DROPPED = [
  /^POWERTOOLS_/,
  /^TABLE_/,
  /^JEST_WORKER_ID$/,
  /^INIT_CWD$/,
  /^(SCOPE_GRANTS|EVENT_SOURCE|USERS_API_URL|PORT|AWS_ENDPOINT_URL|AWS_REGION)$/,
  /^CDK_MICROSERVICES_/,
  /^CDK_(OUTDIR|CONTEXT_JSON)$/,
];

/**
 * The environment of the scratch app's commands: this process's, without what Jest, test/setup-env.ts or an
 * `npm test` parent put there (`npm_config_local_prefix` would make a nested npm install into this repository).
 */
export function scratchEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.toLowerCase().startsWith('npm_') && !NPM_SETTINGS.has(name.toLowerCase())) continue;
    if (DROPPED.some((pattern) => pattern.test(name))) continue;
    env[name] = value;
  }
  return { ...env, CDK_DISABLE_CLI_TELEMETRY: 'true', ...extra };
}

/** Runs `command args` in `cwd` and collects its output (never throws for a non-zero exit). */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const started = Date.now();
  const display = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout ends what it started too (npx runs the command in a child).
    const child = spawn(command, args, {
      cwd,
      env: options.env ?? scratchEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
        }, options.timeoutMs).unref()
      : undefined;
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${display}: ${error.message}`));
    });
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ command: display, status, signal, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Throws with the command's output unless it exited with 0. */
export function succeeded(result: CommandResult): CommandResult {
  if (result.status !== 0) {
    throw new Error(
      `${result.command} exited with ${result.status ?? result.signal} after ${result.seconds.toFixed(1)} s\n` +
        `--- stdout\n${result.stdout.slice(-8000)}\n--- stderr\n${result.stderr.slice(-8000)}`,
    );
  }
  return result;
}

/** The packed library. */
export interface PackedLibrary {
  /** Absolute path of the `.tgz`. */
  readonly tarball: string;
  /** Wall time of `npm pack` (its `prepack` builds dist/). */
  readonly seconds: number;
}

/**
 * `npm pack` of this repository's working tree into `outDir`. The pack runs in a copy of the files git knows
 * (tracked and untracked, not ignored), with this repository's node_modules linked in for the build tools: its
 * `prepack` (`npm run build`) rewrites dist/, and doing that in the repository itself would pull dist/ from under
 * tests running in parallel. What the tarball holds is decided by package.json's `files`, as for a pack in place.
 */
export async function packLibrary(outDir: string): Promise<PackedLibrary> {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-microservices-pack-'));
  try {
    const listed = succeeded(
      await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT, {
        env: process.env,
      }),
    );
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      const from = path.join(ROOT, file);
      if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue; // deleted, or a submodule
      fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      fs.copyFileSync(from, path.join(staging, file));
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(staging, 'node_modules'), 'dir');
    fs.mkdirSync(outDir, { recursive: true });
    const before = new Set(fs.readdirSync(outDir));
    // (Not `--json`: the prepack build prints to the same stdout.)
    const packed = succeeded(await run('npm', ['pack', '--pack-destination', outDir], staging));
    const [filename] = fs.readdirSync(outDir).filter((name) => name.endsWith('.tgz') && !before.has(name));
    if (!filename) throw new Error(`npm pack wrote no tarball into ${outDir}:\n${packed.stdout}`);
    return { tarball: path.join(outDir, filename), seconds: packed.seconds };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** A scratch app with its dependencies installed. */
export interface ScratchApp {
  /** Its folder, under the system's temporary folder. */
  readonly dir: string;
  /** Wall time of `npm install`. */
  readonly installSeconds: number;
  /** What `npm install` printed. */
  readonly installOutput: string;
}

/** Options of {@link createScratchApp}. */
export interface ScratchAppOptions {
  /** Folder copied as the app (package.json without dependencies, cdk.json, sources). */
  readonly fixture: string;
  /** The packed library. */
  readonly tarball: string;
  /** Dependencies besides the library, name → version. */
  readonly dependencies: Readonly<Record<string, string>>;
  /** Development dependencies, name → version. */
  readonly devDependencies: Readonly<Record<string, string>>;
}

/**
 * Copies the fixture into a new folder outside this repository and installs the tarball and the given packages
 * with `npm install --prefer-offline` (the npm cache of this repository's `npm ci` serves the versions it pins).
 */
export async function createScratchApp(options: ScratchAppOptions): Promise<ScratchApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payments-app-'));
  fs.cpSync(options.fixture, dir, { recursive: true });
  const manifestFile = path.join(dir, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
  manifest.dependencies = { 'cdk-microservices': `file:${options.tarball}`, ...options.dependencies };
  manifest.devDependencies = { ...options.devDependencies };
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const install = succeeded(
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], dir, { timeoutMs: 900_000 }),
  );
  return { dir, installSeconds: install.seconds, installOutput: install.stdout + install.stderr };
}

/** A running `npx cdk-microservices dev`. */
export interface DevProcess {
  /** Process id of npx, the leader of the process group of everything `dev` runs. */
  readonly pid: number;
  /** `http://127.0.0.1:{port}` from its Ready line. */
  readonly apiUrl: string;
  /** The emulator it started, from its `Emulator at` line. */
  readonly emulatorUrl: string;
  /** Seconds from the spawn to the Ready line. */
  readonly readySeconds: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM to its process group (npx, the CLI and what it started), then waits for the group to be gone. */
  stop(): Promise<void>;
}

const READY = /Ready: \d+ routes on (http:\/\/127\.0\.0\.1:\d+)/;
const EMULATOR = /Emulator at (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Spawns `npx cdk-microservices dev ...args` in `dir` as the leader of its own process group, its output going
 * to a file (never a pipe that could fill), and resolves once it prints its Ready line.
 */
export async function startDev(
  dir: string,
  args: readonly string[],
  options: { readyTimeoutMs: number },
): Promise<DevProcess> {
  const logFile = path.join(dir, `dev-${Date.now()}.log`);
  const log = fs.openSync(logFile, 'w');
  const started = Date.now();
  const child = spawn('npx', ['cdk-microservices', 'dev', ...args], {
    cwd: dir,
    env: scratchEnv(),
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('npx cdk-microservices dev did not start');
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  const output = () => fs.readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (groupAlive(pid)) process.kill(-pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (groupAlive(pid) && Date.now() < deadline) await delay(200);
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  };
  try {
    const ready = await poll(
      () => {
        const text = output();
        if (exited) throw new Error(`cdk-microservices dev ${exited} before it was ready:\n${text}`);
        return READY.exec(text)?.[1];
      },
      { timeoutMs: options.readyTimeoutMs, what: 'the Ready line of cdk-microservices dev', last: output },
    );
    const emulatorUrl = EMULATOR.exec(output())?.[1];
    if (!emulatorUrl)
      throw new Error(`cdk-microservices dev did not say where its emulator is:\n${output()}`);
    return { pid, apiUrl: ready, emulatorUrl, readySeconds: (Date.now() - started) / 1000, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Whether any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections at `url`'s host and port. */
export function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls `probe` every 250 ms until it returns a value other than undefined; throws after `timeoutMs`. */
export async function poll<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  options: { timeoutMs: number; what: string; last?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${options.timeoutMs / 1000} s waiting for ${options.what}` +
          (options.last ? `:\n${options.last().slice(-8000)}` : ''),
      );
    }
    await delay(250);
  }
}
