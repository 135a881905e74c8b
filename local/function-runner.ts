import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EmulatorEndpoint, LocalFunction } from './model';
import { SourceWatcher } from './watch';

/** Account id the emulator (moto) uses by default; only appears in ARNs handed to handlers. */
const LOCAL_ACCOUNT_ID = '123456789012';
/**
 * Execution environments (workers) kept per function by default: at most this many invocations of it run
 * at once. As many as the machine has cores, from 2 to 4: more than the cores would not run more invocations
 * at a time, only hold more memory (each is a V8 isolate with its own copy of the bundle) and warm up more
 * copies of the same code; and a development machine with many cores need not hold dozens per function.
 */
const DEFAULT_MAX_WORKERS_PER_FUNCTION = Math.min(4, Math.max(2, availableParallelism()));
/** Lambda gives a function's init phase (module load) at most 10 s. */
const INIT_TIMEOUT_MS = 10_000;
/** Host variables a Lambda execution environment also has; everything else of the host stays out. */
const HOST_VARIABLES = ['PATH', 'LANG', 'TZ', 'HOME', 'TMPDIR'] as const;

/** Options of {@link FunctionRunner}. */
export interface FunctionRunnerOptions {
  /**
   * Receives every line a function writes to stdout or stderr (Powertools logs are JSON lines carrying the
   * correlationId), plus a Lambda-like `Task timed out` line when an invocation times out.
   * @default - the line is written to the host's stdout, prefixed with the function's name
   */
  readonly log?: (fn: LocalFunction, line: string) => void;
  /**
   * Execution environments per function; invocations beyond it wait for a free one.
   * @default - the number of cores of the machine, at least 2 and at most 4
   */
  readonly maxWorkersPerFunction?: number;
  /**
   * Where a function's AWS calls go and the credentials it signs them with (Lambda gives each function its
   * role's session credentials): with IAM enforcement, the authorizing proxy and credentials of its own.
   * @default - the emulator's endpoint and credentials
   */
  readonly aws?: (fn: LocalFunction) => {
    readonly endpoint: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /**
   * Endpoints of AWS services the runtime serves itself, by SDK service id (`APPCONFIGDATA`): each function gets
   * `AWS_ENDPOINT_URL_{id}`, which the SDK prefers over `AWS_ENDPOINT_URL` for that service.
   * @default - none: every call goes to `AWS_ENDPOINT_URL`
   */
  readonly serviceEndpoints?: Readonly<Record<string, string>>;
  /**
   * Called when an invocation ends (e.g. by the local alarms): how long its handler ran (from the moment it got
   * an execution environment, a cold start's module load included) and the error it failed with. Must be cheap.
   * @default - nothing
   */
  readonly onInvocation?: (fn: LocalFunction, durationMs: number, error?: unknown) => void;
}

/** A handler rejected or threw: carries Lambda's `errorType` and `errorMessage`. */
export class FunctionError extends Error {
  /** The error's name as the handler threw it (Lambda's `errorType`), e.g. `TypeError`. */
  public readonly errorType: string;
  /** Lambda's `errorMessage`. */
  public readonly errorMessage: string;
  /** Key of the function that failed. */
  public readonly functionKey: string;

  constructor(functionKey: string, errorType: string, errorMessage: string, stack?: string) {
    super(errorMessage);
    this.name = errorType;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
    this.functionKey = functionKey;
    if (stack) this.stack = stack;
  }
}

/** The handler did not settle within the function's timeout; its execution environment was discarded. */
export class FunctionTimeoutError extends FunctionError {
  constructor(functionKey: string, requestId: string, timeoutSeconds: number) {
    super(functionKey, 'Sandbox.Timedout', `${requestId} Task timed out after ${timeoutSeconds} seconds`);
  }
}

/** Messages between the host and a worker. */
type ToWorker = { type: 'invoke'; id: string; event: unknown; context: ContextFields };
type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: string; ok: true; value: unknown; output: Output[] }
  | { type: 'result'; id: string; ok: false; error: SerializedError; output: Output[] }
  | { type: 'log'; output: Output[] };

/** What a function wrote to one of its streams. */
interface Output {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** The serializable part of the Lambda context (the worker adds the functions). */
interface ContextFields {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly deadline: number;
}

/**
 * The worker's program (CommonJS, evaluated): loads the handler module once (warm starts reuse it), then
 * runs one invocation at a time. Output goes through the message port, in order and before the result of
 * the invocation that wrote it: what is written while a result is being prepared travels with the result,
 * anything else (module load, work left running after a result) at the end of the event-loop turn that
 * wrote it, so one message carries all the lines of a turn instead of one message per line.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
let output = [];
let flushing;
const takeOutput = () => {
  const taken = output;
  output = [];
  return taken;
};
const flush = () => {
  flushing = undefined;
  if (output.length > 0) parentPort.postMessage({ type: 'log', output: takeOutput() });
};
for (const stream of ['stdout', 'stderr']) {
  process[stream].write = (chunk, encoding, callback) => {
    if (typeof encoding === 'function') callback = encoding;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    output.push({ stream, text });
    flushing ??= setImmediate(flush);
    if (typeof callback === 'function') process.nextTick(callback);
    return true;
  };
}
const serialize = (error) =>
  error instanceof Error
    ? { name: error.name || 'Error', message: String(error.message), stack: error.stack }
    : { name: 'Error', message: typeof error === 'string' ? error : JSON.stringify(error) };
(async () => {
  let handler;
  try {
    const module = await import(pathToFileURL(workerData.modulePath).href);
    handler = module[workerData.exportName];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(workerData.handler + ' is undefined or not exported'), {
        name: 'Runtime.HandlerNotFound',
      });
    }
  } catch (error) {
    const serialized = serialize(error);
    if (error && error.code === 'ERR_MODULE_NOT_FOUND') serialized.name = 'Runtime.ImportModuleError';
    flush();
    parentPort.postMessage({ type: 'init-error', error: serialized });
    return;
  }
  parentPort.on('message', async (message) => {
    if (message.type !== 'invoke') return;
    const fields = message.context;
    const context = {
      ...fields,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, fields.deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    delete context.deadline;
    try {
      const value = await (handler.length >= 3
        ? new Promise((resolve, reject) =>
            Promise.resolve(
              handler(message.event, context, (error, result) => (error ? reject(error) : resolve(result))),
            ).catch(reject),
          )
        : handler(message.event, context));
      // Lambda returns the JSON serialization of the result.
      const json = JSON.stringify(value === undefined ? null : value);
      parentPort.postMessage({ type: 'result', id: message.id, ok: true, value: JSON.parse(json), output: takeOutput() });
    } catch (error) {
      parentPort.postMessage({ type: 'result', id: message.id, ok: false, error: serialize(error), output: takeOutput() });
    }
  });
  flush();
  parentPort.postMessage({ type: 'ready' });
})();
`;

/** One execution environment: a worker with its own module scope and `process.env`. */
interface Environment {
  readonly worker: Worker;
  /** Lambda writes each execution environment's output to a log stream of its own. */
  readonly logStreamName: string;
  readonly ready: Promise<void>;
  /** The function's code generation it runs ({@link FunctionPool.generation} when it started). */
  readonly generation: number;
  busy: boolean;
  dead: boolean;
  /** Settles the invocation in progress (if any) when the worker dies. */
  onDeath?: (error: Error) => void;
  onResult?: (message: Extract<FromWorker, { type: 'result' }>) => void;
}

interface FunctionPool {
  readonly environments: Environment[];
  /** Invocations waiting for a free environment. */
  readonly waiting: Array<() => void>;
  /** Bumped by every reload: environments of an older generation run old code and are retired. */
  generation: number;
  /** Folder of the code new environments load (a reloaded bundle); the function's asset folder when unset. */
  codeDir?: string;
}

/**
 * Runs the bundled handlers of the local system like Lambda does: each function in its own execution
 * environments — `worker_threads` Workers, so module state and `process.env` are the function's own — with
 * the template's environment, AWS variables pointing the SDK at the emulator, warm starts, one invocation at
 * a time per environment (up to `maxWorkersPerFunction` environments per function) and the function's
 * timeout (the environment that timed out is discarded; the next invocation starts a fresh one). Stack
 * traces are source-mapped to the TypeScript sources.
 */
export class FunctionRunner {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly log: (fn: LocalFunction, line: string) => void;
  private readonly maxWorkers: number;
  private readonly aws: FunctionRunnerOptions['aws'];
  private readonly onInvocation: FunctionRunnerOptions['onInvocation'];
  /** `AWS_ENDPOINT_URL_{id}` variables of the services the runtime serves itself. */
  private readonly serviceEndpoints: Record<string, string>;
  private readonly watchers = new Set<SourceWatcher>();
  /** Watchers told to stop whose build contexts are still being disposed of (close waits for them). */
  private readonly stopping = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly functions: ReadonlyMap<string, LocalFunction>,
    private readonly emulator: EmulatorEndpoint,
    options: FunctionRunnerOptions = {},
  ) {
    this.log = options.log ?? ((fn, line) => process.stdout.write(`[${fn.name}] ${line}\n`));
    this.maxWorkers = Math.max(1, options.maxWorkersPerFunction ?? DEFAULT_MAX_WORKERS_PER_FUNCTION);
    this.aws = options.aws;
    this.onInvocation = options.onInvocation;
    this.serviceEndpoints = Object.fromEntries(
      Object.entries(options.serviceEndpoints ?? {}).map(([id, url]) => [`AWS_ENDPOINT_URL_${id}`, url]),
    );
    this.invoke = this.invoke.bind(this);
  }

  /**
   * Invokes a function with `event` (passed as JSON, like Lambda does). Resolves to the JSON value the
   * handler returned (`null` for nothing); rejects with a {@link FunctionError} when it throws or rejects
   * (`name`/`errorType` and `message` are the error's), a {@link FunctionTimeoutError}
   * (`Task timed out after N seconds`) when it does not settle in time, or an `Error` for an unknown key.
   */
  async invoke(functionKey: string, event: unknown): Promise<unknown> {
    if (this.closed) throw new Error('The function runner is closed');
    const fn = this.functions.get(functionKey);
    if (!fn) throw new Error(`Function not found: ${functionKey}`);
    const pool = this.poolOf(functionKey);
    for (const watcher of this.watchers) {
      const preparing = watcher.prepare(functionKey);
      if (preparing) await preparing;
    }
    const environment = await this.acquire(fn, pool);
    const started = performance.now();
    try {
      const value = await this.run(fn, environment, event);
      this.onInvocation?.(fn, performance.now() - started);
      return value;
    } catch (error) {
      this.onInvocation?.(fn, performance.now() - started, error);
      throw error;
    } finally {
      environment.busy = false;
      // An environment that finished on code older than the function's current code is retired.
      if (environment.generation !== pool.generation) this.retire(pool, environment);
      pool.waiting.shift()?.();
    }
  }

  /**
   * Swaps a function's code for the bundle in `bundleDir` (a folder holding the handler file, e.g.
   * `index.mjs`, like the function's asset folder): invocations from now on start execution environments on
   * it, invocations in progress finish on the code they started with, and idle warm environments of the old
   * code are retired. A function that had environments gets one on the new code right away, so the next
   * request does not wait for its init phase (module load), and what the init phase prints shows up now.
   */
  reload(functionKey: string, bundleDir: string): void {
    if (this.closed) return;
    const fn = this.functions.get(functionKey);
    if (!fn) throw new Error(`Function not found: ${functionKey}`);
    const pool = this.poolOf(functionKey);
    const inUse = pool.environments.some((environment) => !environment.dead);
    pool.generation += 1;
    pool.codeDir = bundleDir;
    for (const environment of pool.environments.filter((candidate) => !candidate.busy)) {
      this.retire(pool, environment);
    }
    if (inUse && pool.environments.length < this.maxWorkers) pool.environments.push(this.start(fn, pool));
  }

  /**
   * The source files the hot reload watches (absolute paths), e.g. for a watcher of infrastructure code to
   * leave handler sources to it; empty when nothing is watched.
   */
  handlerSources(): ReadonlySet<string> {
    const files = new Set<string>();
    for (const watcher of this.watchers) for (const file of watcher.sources()) files.add(file);
    return files;
  }

  /**
   * Hot reload: watches the sources every function's bundle was made of (recorded at synth next to the cloud
   * assembly's assets), and when one changes rebuilds the functions made from it with the bundler's esbuild
   * options and {@link FunctionRunner.reload | swaps} their code; a build error keeps the previous code.
   * `log` receives one line per reload (`[reload] …`) and the build errors. Returns the function that stops
   * watching (closing the runner stops it too).
   */
  watch(log: (line: string) => void): () => void {
    const watcher = new SourceWatcher({
      functions: this.functions,
      log,
      reload: (functionKey, bundleDir) => this.reload(functionKey, bundleDir),
    });
    this.watchers.add(watcher);
    watcher.start();
    return () => {
      if (!this.watchers.delete(watcher)) return;
      const stopped = watcher.stop().finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
    };
  }

  /** Terminates every execution environment; invocations in progress reject. */
  async close(): Promise<void> {
    this.closed = true;
    const watchers = [...this.watchers];
    this.watchers.clear();
    await Promise.all([...watchers.map((watcher) => watcher.stop()), ...this.stopping]);
    // Wake every invocation waiting for a free environment: it sees `closed` and rejects instead of hanging.
    for (const pool of this.pools.values()) for (const wake of pool.waiting.splice(0)) wake();
    const all = [...this.pools.values()].flatMap((pool) => pool.environments);
    this.pools.clear();
    await Promise.all(
      all.map((environment) => this.discard(environment, new Error('The function runner closed'))),
    );
  }

  private poolOf(functionKey: string): FunctionPool {
    let pool = this.pools.get(functionKey);
    if (!pool) {
      pool = { environments: [], waiting: [], generation: 0 };
      this.pools.set(functionKey, pool);
    }
    return pool;
  }

  /** A free environment of the function: an idle warm one, a new one, or the next one to become free. */
  private async acquire(fn: LocalFunction, pool: FunctionPool): Promise<Environment> {
    for (;;) {
      if (this.closed) throw new Error('The function runner closed');
      for (let i = pool.environments.length - 1; i >= 0; i--) {
        if (pool.environments[i].dead && !pool.environments[i].busy) pool.environments.splice(i, 1);
      }
      const idle = pool.environments.find(
        (environment) => !environment.busy && !environment.dead && environment.generation === pool.generation,
      );
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (pool.environments.length < this.maxWorkers) {
        const environment = this.start(fn, pool);
        environment.busy = true;
        pool.environments.push(environment);
        return environment;
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  /** Takes an environment out of its pool and terminates it once it is idle (its code is outdated). */
  private retire(pool: FunctionPool, environment: Environment): void {
    const index = pool.environments.indexOf(environment);
    if (index >= 0) pool.environments.splice(index, 1);
    void this.discard(environment, new Error('The execution environment was retired (new code)'));
  }

  private start(fn: LocalFunction, pool: FunctionPool): Environment {
    const [file, exportName] = splitHandler(fn.handler);
    const codeDir = pool.codeDir ?? fn.assetDir;
    const options = {
      eval: true,
      env: this.environmentOf(fn, codeDir),
      workerData: { modulePath: join(codeDir, `${file}.mjs`), exportName, handler: fn.handler },
      stdout: true,
      stderr: true,
    };
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { ...options, execArgv: ['--enable-source-maps'] });
    } catch {
      // Workers that refuse the flag still get source maps from process.setSourceMapsEnabled.
      worker = new Worker(WORKER_SOURCE, options);
    }
    const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const emit = (stream: 'stdout' | 'stderr', text: string) => {
      for (const line of lines[stream].push(text)) this.log(fn, line);
    };
    const emitAll = (output: readonly Output[]) => {
      for (const { stream, text } of output) emit(stream, text);
    };
    // Anything written past the patched streams (there should be nothing) is still captured.
    worker.stdout.on('data', (chunk: Buffer) => emit('stdout', chunk.toString('utf8')));
    worker.stderr.on('data', (chunk: Buffer) => emit('stderr', chunk.toString('utf8')));

    let settleReady: (error?: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settleReady = (error) => (error ? reject(error) : resolve());
    });
    ready.catch(() => undefined);
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    const environment: Environment = {
      worker,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      ready,
      generation: pool.generation,
      busy: false,
      dead: false,
    };
    const initTimer = setTimeout(() => {
      const error = new FunctionError(
        fn.key,
        'Runtime.InitTimeout',
        `Init timed out after ${INIT_TIMEOUT_MS / 1000} seconds`,
      );
      settleReady(error);
      void this.discard(environment, error);
    }, INIT_TIMEOUT_MS);

    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'log':
          emitAll(message.output);
          break;
        case 'ready':
          clearTimeout(initTimer);
          settleReady();
          break;
        case 'init-error': {
          clearTimeout(initTimer);
          const { name, message: text, stack } = message.error;
          const error = new FunctionError(fn.key, name, text, stack);
          settleReady(error);
          void this.discard(environment, error);
          break;
        }
        case 'result':
          emitAll(message.output);
          environment.onResult?.(message);
          break;
      }
    });
    const died = (error: Error) => {
      clearTimeout(initTimer);
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = lines[stream].flush();
        if (rest !== undefined) this.log(fn, rest);
      }
      if (environment.dead) return;
      environment.dead = true;
      settleReady(error);
      environment.onDeath?.(error);
    };
    worker.on('error', (error: Error) =>
      died(new FunctionError(fn.key, 'Runtime.ExitError', `${error.name}: ${error.message}`, error.stack)),
    );
    worker.on('exit', (code) =>
      died(new FunctionError(fn.key, 'Runtime.ExitError', `Runtime exited with error: exit status ${code}`)),
    );
    return environment;
  }

  private async run(fn: LocalFunction, environment: Environment, event: unknown): Promise<unknown> {
    await environment.ready;
    const requestId = randomUUID();
    const timeoutMs = fn.timeoutSeconds * 1000;
    const context = this.contextOf(fn, environment, requestId, Date.now() + timeoutMs);
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new FunctionTimeoutError(fn.key, requestId, fn.timeoutSeconds);
        this.log(fn, `${new Date().toISOString()} ${error.message}`);
        done();
        void this.discard(environment, error);
        reject(error);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        environment.onResult = undefined;
        environment.onDeath = undefined;
      };
      environment.onDeath = (error) => {
        done();
        reject(error);
      };
      environment.onResult = (message) => {
        if (message.id !== requestId) return;
        done();
        if (message.ok) resolve(message.value);
        else
          reject(new FunctionError(fn.key, message.error.name, message.error.message, message.error.stack));
      };
      const invoke: ToWorker = { type: 'invoke', id: requestId, event, context };
      try {
        environment.worker.postMessage(invoke);
      } catch (error) {
        done();
        reject(error);
      }
    });
  }

  /** Marks the environment dead, rejects what it was running and terminates its worker. */
  private async discard(environment: Environment, error: Error): Promise<void> {
    if (!environment.dead) {
      environment.dead = true;
      environment.onDeath?.(error);
    }
    await environment.worker.terminate();
  }

  private environmentOf(fn: LocalFunction, codeDir: string): Record<string, string> {
    const host: Record<string, string> = {};
    for (const name of HOST_VARIABLES) {
      const value = process.env[name];
      if (value !== undefined) host[name] = value;
    }
    const aws = this.aws?.(fn) ?? {
      endpoint: this.emulator.endpoint,
      accessKeyId: this.emulator.accessKeyId,
      secretAccessKey: this.emulator.secretAccessKey,
    };
    return {
      ...host,
      ...fn.environment,
      AWS_ENDPOINT_URL: aws.endpoint,
      ...this.serviceEndpoints,
      AWS_REGION: this.emulator.region,
      AWS_DEFAULT_REGION: this.emulator.region,
      AWS_ACCESS_KEY_ID: aws.accessKeyId,
      AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
      ...(aws.sessionToken ? { AWS_SESSION_TOKEN: aws.sessionToken } : {}),
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: codeDir,
      _HANDLER: fn.handler,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
  }

  private contextOf(
    fn: LocalFunction,
    environment: Environment,
    requestId: string,
    deadline: number,
  ): ContextFields {
    return {
      awsRequestId: requestId,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.emulator.region}:${LOCAL_ACCOUNT_ID}:function:${fn.name}`,
      memoryLimitInMB: String(fn.memoryMb),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: environment.logStreamName,
      deadline,
    };
  }
}

/** `index.handler` → [`index`, `handler`] (the export is after the last dot). */
function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`Handler ${handler} is not of the form file.export`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** Splits a stream of text chunks into lines. */
class LineSplitter {
  private rest = '';

  push(text: string): string[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => line.replace(/\r$/, ''));
  }

  flush(): string | undefined {
    const rest = this.rest;
    this.rest = '';
    return rest === '' ? undefined : rest;
  }
}
