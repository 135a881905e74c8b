/**
 * The local runtime in a process of its own, for the runtime section of the benchmark (bench/runtime.ts starts
 * it with an IPC channel): its resident memory is then the runtime's alone, apart from the load generator's.
 * Starts the runtime on a free port of 127.0.0.1, synthesizing into the directory named by its argument (the
 * parent creates and removes it), reports where everything is, and stops the runtime (and with it moto) when
 * told to, when the parent goes away, or on SIGTERM/SIGINT.
 */
import * as fs from 'node:fs';
// The SDK's notice that its 2027 releases need Node 22 is not actionable here (as in scripts/start.ts).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { endpointOf } from '../local/emulator';
import type { LocalRuntime } from '../local/runtime';
import { startLocalRuntime } from '../local/runtime';
import { peakRssOf } from './stats';

/** What the server tells bench/runtime.ts once the runtime is up. */
export interface RuntimeServerInfo {
  readonly apiUrl: string;
  readonly emulator: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
  /** moto's process id (undefined for an external emulator named by AWS_ENDPOINT_URL). */
  readonly motoPid?: number;
  readonly userPoolClientId: string;
  /** Every function's key, description and resolved environment (table names, key attributes, ...). */
  readonly functions: ReadonlyArray<{
    readonly key: string;
    readonly description: string;
    readonly environment: Readonly<Record<string, string>>;
  }>;
  /** Peak RSS of this process once the runtime was up (synthesis and bundling included), bytes. */
  readonly startupPeakRss?: number;
  /** Whether the peak RSS counter was reset after start-up (so that VmHWM then measures the load alone). */
  readonly peakReset: boolean;
  readonly startupSeconds: number;
}

/** Messages of the server to its parent. */
export type FromRuntimeServer =
  | { readonly type: 'ready'; readonly info: RuntimeServerInfo }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'report'; readonly problems: readonly string[]; readonly problemCount: number }
  | { readonly type: 'pipes'; readonly running: boolean };

/**
 * Messages of the parent to the server. `pipes` stops or restarts the outbox pipes (the source of all the saga's
 * background work: nothing reaches the bus, the queues or the consumers while they are stopped, and they resume
 * from where they stopped); the queue pollers keep polling.
 */
export type ToRuntimeServer =
  | { readonly type: 'report' }
  | { readonly type: 'stop' }
  | { readonly type: 'pipes'; readonly running: boolean };

const PROBLEM_LINES_KEPT = 40;
/** Log lines worth showing when something goes wrong: failures and Powertools errors/warnings. */
const PROBLEM = /failed|error|timed out|"level":"(?:ERROR|WARN)"/i;

/** Resets this process's peak RSS counter (VmHWM); false where the kernel does not allow it. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const send = (message: FromRuntimeServer) => process.send?.(message);
  if (!process.send)
    throw new Error('bench/runtime-server.ts is started by bench/runtime.ts, with an IPC channel');
  const assemblyDir = process.argv[2];
  if (!assemblyDir) throw new Error('usage: runtime-server.ts <assembly directory>');
  const problems: string[] = [];
  let problemCount = 0;
  let runtime: LocalRuntime | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number) =>
    (stopping ??= (async () => {
      await runtime?.stop().catch(() => undefined);
      process.exit(code);
    })());
  process.on('disconnect', () => void stop(0));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(0));
  let pipesRunning = true;
  process.on('message', (message: ToRuntimeServer) => {
    if (message.type === 'stop') void stop(0);
    else if (message.type === 'report') send({ type: 'report', problems: [...problems], problemCount });
    else if (message.type === 'pipes' && runtime) {
      const pipes = runtime.pipes;
      void (async () => {
        if (message.running && !pipesRunning) for (const pipe of pipes) pipe.start();
        if (!message.running && pipesRunning) await Promise.all(pipes.map((pipe) => pipe.stop()));
        pipesRunning = message.running;
        send({ type: 'pipes', running: pipesRunning });
      })();
    }
  });

  const started = Date.now();
  try {
    runtime = await startLocalRuntime({
      port: 0,
      assemblyDir,
      // Log lines are kept only when they report a problem: the runtime formats them as `npm start` does,
      // but printing them to a terminal is not part of what is measured.
      log: (line) => {
        if (!PROBLEM.test(line)) return;
        problemCount += 1;
        problems.push(line.slice(0, 500));
        if (problems.length > PROBLEM_LINES_KEPT) problems.shift();
      },
    });
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    await stop(1);
    return;
  }
  const identity = runtime.system.identity;
  if (!identity) {
    send({ type: 'failed', error: 'the local system has no user pool' });
    await stop(1);
    return;
  }
  const startupPeakRss = peakRssOf(process.pid);
  const info: RuntimeServerInfo = {
    apiUrl: runtime.apiUrl,
    emulator: endpointOf(runtime.emulator),
    motoPid: runtime.emulator.pid,
    userPoolClientId: identity.userPoolClientId,
    functions: [...runtime.system.functions.values()].map((fn) => ({
      key: fn.key,
      description: fn.description,
      environment: fn.environment,
    })),
    startupPeakRss,
    peakReset: resetPeakRss(),
    startupSeconds: (Date.now() - started) / 1000,
  };
  send({ type: 'ready', info });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
