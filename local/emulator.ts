import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { get } from 'node:http';
import { delimiter, join } from 'node:path';
import { EmulatorClients, emulatorAccountIdOf } from './aws-clients';
import type { EmulatorEndpoint } from './model';
import { freePort, sleep } from './util';

const MOTO_INSTALL_HINT = 'Install it with: pip install "moto[server]"';
const HOW_TO_GET_ONE =
  'The local runtime needs an AWS emulator: install moto (pip install "moto[server]") so that moto_server ' +
  'is on PATH, or run LocalStack and set AWS_ENDPOINT_URL=http://localhost:4566.';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_CHARS = 4_000;

/** Region of a moto server started here (the `local` environment is synthesized for us-east-1). */
export const MOTO_REGION = 'us-east-1';
/** Account id moto uses unless told otherwise. */
export const MOTO_ACCOUNT_ID = '123456789012';

/** An AWS emulator the local runtime talks to: one it started (moto) or an external one (`AWS_ENDPOINT_URL`). */
export interface Emulator extends EmulatorEndpoint {
  /** Stops the emulator if it was started here (kills moto by its pid); a no-op for an external one. */
  stop(): Promise<void>;
  /** Whether the emulator runs outside this process tree (named by `AWS_ENDPOINT_URL`). */
  readonly external: boolean;
  /** Process id of the moto server started here. */
  readonly pid?: number;
  /** What the emulator runs without, as moto's launcher reported it at start-up (empty: nothing missing). */
  readonly notices: readonly string[];
}

/** A running moto server on a loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:{port}` */
  readonly endpoint: string;
  readonly pid: number;
  /** Stops the server by its process id (SIGTERM, then SIGKILL) and waits for it to exit. */
  readonly stop: () => Promise<void>;
  /**
   * What this moto runs without: the serializing launcher (python3 cannot import moto, so plain
   * `moto_server` runs and concurrent DynamoDB transactions may interleave) or one of the launcher's
   * speed-ups (moto's internals changed). Empty when nothing is missing.
   */
  readonly notices: readonly string[];
}

/**
 * Gives the local runtime an AWS emulator: the one `AWS_ENDPOINT_URL` names (region from `AWS_REGION`, default
 * us-east-1; credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, default `test`), or else a
 * `moto_server` started on a free port of 127.0.0.1. Fails at once, saying how to get one, when neither is there.
 */
export async function startEmulator(env: NodeJS.ProcessEnv = process.env): Promise<Emulator> {
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID || 'test',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY || 'test',
  };
  const external = env.AWS_ENDPOINT_URL?.trim();
  if (external) {
    return {
      endpoint: external.replace(/\/+$/, ''),
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
      ...credentials,
      external: true,
      stop: async () => undefined,
      notices: [],
    };
  }
  if (!onPath('moto_server', env.PATH)) {
    throw new Error(
      `No AWS emulator: AWS_ENDPOINT_URL is not set and moto_server is not on PATH. ${HOW_TO_GET_ONE}`,
    );
  }
  // The runtime synthesizes while moto starts: time for moto to import its backends too.
  const moto = await startMotoServer({ warmUp: true });
  return {
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    ...credentials,
    external: false,
    pid: moto.pid,
    stop: moto.stop,
    notices: moto.notices,
  };
}

/** Options of {@link startMotoServer}. */
export interface MotoServerOptions {
  /**
   * The account moto's ARNs carry.
   * @default - moto's (123456789012)
   */
  readonly accountId?: string;
  /**
   * Whether the launcher imports the backends the local runtime calls (SSM, Cognito, EventBridge, DynamoDB,
   * SQS, STS) in the background once it answers, so the first provisioning does not wait for them (SSM's
   * alone takes 0.6 s or more). Worth it when something else (synthesis) runs meanwhile.
   * @default false
   */
  readonly warmUp?: boolean;
}

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers.
 * Throws (with moto's stderr and an install hint) if it is not installed or does not come up.
 */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  if (!onPath('moto_server')) throw new Error(`moto_server is not on PATH. ${MOTO_INSTALL_HINT}`);
  const port = await freePort();
  const [command, args, launcherNotice] = motoCommand(port);
  const child = spawn(command, args, {
    detached: false,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      MOTO_PORT: String(port),
      // The account moto's ARNs carry (moto's default otherwise).
      ...(options.accountId ? { MOTO_ACCOUNT_ID: options.accountId } : {}),
      ...(options.warmUp ? { MOTO_LAUNCHER_WARM_UP: '1' } : {}),
    },
  });
  // Keep draining stderr (moto logs every request there) so a full pipe never blocks the server.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Whatever ends this process (a crash, process.exit, a signal handled by exiting), moto goes with it.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const stop = async () => {
    await stopProcess(child, exited);
    process.removeListener('exit', killOnExit);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(`${endpoint}/moto-api/`))) {
    const failed = spawnError ?? (child.exitCode !== null || child.signalCode !== null);
    if (failed || Date.now() > deadline) {
      await stop();
      const why = spawnError
        ? spawnError.message
        : failed
          ? `exited with ${child.exitCode ?? child.signalCode}`
          : `did not answer within ${START_TIMEOUT_MS / 1000} s`;
      throw new Error(`moto_server on port ${port} ${why}. ${MOTO_INSTALL_HINT}\nstderr:\n${stderr}`);
    }
    await sleep(100);
  }
  if (child.pid === undefined) throw new Error(`moto_server on port ${port} has no process id`);
  // The launcher reports a missing speed-up before it starts serving; let that output be read first.
  await new Promise((resolve) => setImmediate(resolve));
  const notices = [
    ...(launcherNotice ? [launcherNotice] : []),
    ...(stderr.match(/^moto runs without .*$/gm) ?? []),
  ];
  return { endpoint, pid: child.pid, stop, notices };
}

/**
 * The account id the emulator works in (the one its default event bus's ARN carries; moto's default when it
 * cannot answer). A provisioning run asks its own clients ({@link emulatorAccountIdOf}); this is for callers
 * without a client set.
 */
export async function emulatorAccountId(emulator: EmulatorEndpoint): Promise<string> {
  const clients = new EmulatorClients(emulator);
  try {
    return await emulatorAccountIdOf(clients);
  } finally {
    clients.destroy();
  }
}

/**
 * Where the moto launcher is (local/moto/launcher.py): next to this module when it runs from the sources (or
 * from a build that copies it), else in the package's `local/moto` folder next to `dist/`. See the file for
 * what it does: DynamoDB requests serialized, and speed-ups of transactions, PutEvents and garbage collection.
 */
export function motoLauncherPath(): string | undefined {
  return [
    join(__dirname, 'moto', 'launcher.py'),
    join(__dirname, '..', '..', 'local', 'moto', 'launcher.py'),
  ].find((candidate) => existsSync(candidate));
}

/**
 * How to start moto: the serializing launcher when python3 can import moto, else plain moto_server (with a
 * notice saying what that loses).
 */
function motoCommand(port: number): [string, string[], string?] {
  const launcher = motoLauncherPath();
  const probe = launcher
    ? spawnSync('python3', ['-c', 'import moto.server, werkzeug.serving'], { stdio: 'ignore' })
    : undefined;
  if (launcher && probe?.status === 0) return ['python3', [launcher, '127.0.0.1', String(port)]];
  return [
    'moto_server',
    ['-H', '127.0.0.1', '-p', String(port)],
    launcher
      ? 'moto runs without the serializing launcher (python3 cannot import moto): concurrent DynamoDB ' +
        'transactions may interleave, and transactions and PutEvents are slower'
      : 'moto runs without the serializing launcher (local/moto/launcher.py is missing from the package): ' +
        'concurrent DynamoDB transactions may interleave, and transactions and PutEvents are slower',
  ];
}

function onPath(command: string, path: string | undefined = process.env.PATH): boolean {
  return (path ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether a GET to `url` gets any HTTP answer (no keep-alive, so no socket outlives the check). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1_000 }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  signal(child.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS)));
  const gone = await Promise.race([exited.then(() => true), grace]);
  clearTimeout(timer);
  if (!gone) {
    signal(child.pid, 'SIGKILL');
    await exited;
  }
}

/** Sends `sig` to `pid`, ignoring a process that is already gone. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The endpoint and credentials of an emulator, without its process handles: what other processes need. */
export function endpointOf(emulator: EmulatorEndpoint): EmulatorEndpoint {
  const { endpoint, region, accessKeyId, secretAccessKey } = emulator;
  return { endpoint, region, accessKeyId, secretAccessKey };
}
