import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, FunctionRunner, FunctionTimeoutError } from '../../local/function-runner';
import type { EmulatorEndpoint, LocalFunction } from '../../local/model';

const FIXTURES = join(__dirname, 'fixtures');

const emulator: EmulatorEndpoint = {
  endpoint: 'http://127.0.0.1:4599',
  region: 'eu-west-1',
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
};

function localFunction(key: string, handler: string, overrides: Partial<LocalFunction> = {}): LocalFunction {
  return {
    key,
    name: key.replace('/', '-'),
    stackName: key.split('/')[0],
    logicalId: key.split('/')[1],
    description: `test: ${key}`,
    assetDir: FIXTURES,
    handler,
    timeoutSeconds: 5,
    memoryMb: 256,
    environment: {},
    ...overrides,
  };
}

interface EnvResult {
  greeting: string;
  hostOnly: string | null;
  touchedBy?: string | null;
  invocations: number;
  region: string;
  endpoint: string;
  functionNameVariable: string;
  memory: string;
  context: Record<string, unknown> & { remaining: number };
}

describe('FunctionRunner', () => {
  const functions = new Map<string, LocalFunction>(
    [
      localFunction('Orders/Hello', 'env-handler.handler', { environment: { GREETING: 'hello' } }),
      localFunction('Users/Bonjour', 'env-handler.handler', { environment: { GREETING: 'bonjour' } }),
      localFunction('Orders/Hang', 'hang-handler.handler', { timeoutSeconds: 1 }),
      localFunction('Orders/Fail', 'failing-handler.handler'),
      localFunction('Orders/Missing', 'missing.handler'),
      localFunction('Orders/NoExport', 'failing-handler.nothing'),
    ].map((fn) => [fn.key, fn]),
  );
  const lines: Array<{ fn: string; line: string }> = [];
  let runner: FunctionRunner;

  beforeAll(() => {
    process.env.HOST_ONLY = 'leaked';
    runner = new FunctionRunner(functions, emulator, { log: (fn, line) => lines.push({ fn: fn.key, line }) });
  });

  afterAll(async () => {
    delete process.env.HOST_ONLY;
    await runner.close();
  });

  it('gives each function its own environment and the AWS variables of the emulator', async () => {
    const [hello, bonjour] = (await Promise.all([
      runner.invoke('Orders/Hello', {}),
      runner.invoke('Users/Bonjour', {}),
    ])) as EnvResult[];
    expect(hello.greeting).toBe('hello');
    expect(bonjour.greeting).toBe('bonjour');
    expect(hello.hostOnly).toBeNull();
    expect(hello).toMatchObject({
      region: 'eu-west-1',
      endpoint: emulator.endpoint,
      functionNameVariable: 'Orders-Hello',
      memory: '256',
    });
    expect(hello.context).toMatchObject({
      functionName: 'Orders-Hello',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:Orders-Hello',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/Orders-Hello',
    });
    expect(hello.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(hello.context.remaining).toBeGreaterThan(3_000);
    expect(hello.context.remaining).toBeLessThanOrEqual(5_000);
    // A variable one function sets is not seen by another, nor by the host.
    const again = (await runner.invoke('Users/Bonjour', { readTouched: true })) as EnvResult;
    expect(again.touchedBy).toBe('Users-Bonjour');
    expect(process.env.TOUCHED_BY).toBeUndefined();
  });

  it('keeps module state across warm invocations of one function', async () => {
    const first = (await runner.invoke('Orders/Hang', {})) as { environmentId: string; invocations: number };
    const second = (await runner.invoke('Orders/Hang', {})) as { environmentId: string; invocations: number };
    expect(second.environmentId).toBe(first.environmentId);
    expect(second.invocations).toBe(first.invocations + 1);
  });

  it('gives each invocation its own request id, and an execution environment one log stream', async () => {
    type Context = { context: { awsRequestId: string; logStreamName: string } };
    const first = (await runner.invoke('Orders/Hello', {})) as Context;
    const second = (await runner.invoke('Orders/Hello', {})) as Context;
    expect(second.context.awsRequestId).not.toBe(first.context.awsRequestId);
    expect(second.context.logStreamName).toBe(first.context.logStreamName);
    expect(first.context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });

  it('runs concurrent invocations of one function in separate execution environments', async () => {
    const results = (await Promise.all([
      runner.invoke('Orders/Hang', { sleepMs: 300 }),
      runner.invoke('Orders/Hang', { sleepMs: 300 }),
    ])) as Array<{ environmentId: string }>;
    expect(results[0].environmentId).not.toBe(results[1].environmentId);
  });

  it('kills a handler that outlives its timeout; the next invocation starts cold', async () => {
    const before = (await runner.invoke('Orders/Hang', {})) as { environmentId: string };
    const started = Date.now();
    const hung = runner.invoke('Orders/Hang', { hang: true });
    await expect(hung).rejects.toThrow(/Task timed out after 1 seconds/);
    await expect(hung).rejects.toBeInstanceOf(FunctionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(3_000);
    // What the handler wrote before it hung is kept, and comes before the timeout line.
    const own = lines.filter((l) => l.fn === 'Orders/Hang').map((l) => l.line);
    const hanging = own.indexOf('hanging from now on');
    expect(hanging).toBeGreaterThanOrEqual(0);
    expect(own.findIndex((l) => /Task timed out after 1 seconds/.test(l))).toBeGreaterThan(hanging);

    // Enough calls to use every environment of the pool: the one that timed out is gone, a fresh one serves.
    const after = (await Promise.all(
      Array.from({ length: 4 }, () => runner.invoke('Orders/Hang', { sleepMs: 100 })),
    )) as Array<{ environmentId: string; invocations: number }>;
    expect(after.every((r) => typeof r.environmentId === 'string')).toBe(true);
    expect(after.some((r) => r.invocations === 1)).toBe(true);
    expect(before.environmentId).toBeDefined();
  });

  it("rejects with the handler's error name and message", async () => {
    await expect(runner.invoke('Orders/Fail', {})).resolves.toBe('ok');
    const failure = runner.invoke('Orders/Fail', { fail: true, id: 'o-42' });
    await expect(failure).rejects.toBeInstanceOf(FunctionError);
    await expect(failure).rejects.toMatchObject({
      name: 'OrderNotFoundError',
      errorType: 'OrderNotFoundError',
      message: 'Order o-42 does not exist',
      errorMessage: 'Order o-42 does not exist',
      functionKey: 'Orders/Fail',
    });
    // The environment survives a handled error.
    await expect(runner.invoke('Orders/Fail', {})).resolves.toBe('ok');
  });

  it('rejects when the module or the export is missing, and for unknown functions', async () => {
    await expect(runner.invoke('Orders/Missing', {})).rejects.toMatchObject({
      errorType: 'Runtime.ImportModuleError',
    });
    await expect(runner.invoke('Orders/NoExport', {})).rejects.toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
    });
    await expect(runner.invoke('Nope/Nope', {})).rejects.toThrow('Function not found: Nope/Nope');
  });

  it("captures the function's stdout and stderr lines, before the invocation resolves", async () => {
    lines.length = 0;
    await runner.invoke('Orders/Hello', { correlationId: 'corr-123' });
    const own = lines.filter((l) => l.fn === 'Orders/Hello').map((l) => l.line);
    expect(own).toContain('a line on stderr');
    const json = own
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(json).toContainEqual({ level: 'INFO', message: 'invoked', correlationId: 'corr-123' });
  });

  it('rejects invocations after close', async () => {
    const other = new FunctionRunner(functions, emulator, { log: () => undefined });
    await other.invoke('Orders/Fail', {});
    await other.close();
    await expect(other.invoke('Orders/Fail', {})).rejects.toThrow(/closed/);
  });
});

describe('FunctionRunner.reload', () => {
  let root: string;
  let runner: FunctionRunner;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'runner-reload-'));
  });

  afterAll(async () => {
    await runner?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** A bundle folder whose handler answers `version` (after `sleepMs` when the event asks for it). */
  function writeBundle(version: string): string {
    const dir = mkdtempSync(join(root, `${version}-`));
    writeFileSync(
      join(dir, 'index.mjs'),
      [
        "import { randomUUID } from 'node:crypto';",
        'const environmentId = randomUUID();',
        `console.log('init ${version}');`,
        'export const handler = async (event) => {',
        '  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));',
        `  return { version: '${version}', environmentId, taskRoot: process.env.LAMBDA_TASK_ROOT };`,
        '};',
        '',
      ].join('\n'),
    );
    return dir;
  }

  it('starts new invocations on the new code while one in progress finishes on the old', async () => {
    const first = writeBundle('v1');
    const fn = localFunction('Orders/Reloaded', 'index.handler', { assetDir: first });
    const logged: string[] = [];
    runner = new FunctionRunner(new Map([[fn.key, fn]]), emulator, { log: (_, line) => logged.push(line) });
    type Answer = { version: string; environmentId: string; taskRoot: string };
    const warm = (await runner.invoke(fn.key, {})) as Answer;
    expect(warm).toMatchObject({ version: 'v1', taskRoot: first });
    const inFlight = runner.invoke(fn.key, { sleepMs: 500 }) as Promise<Answer>;
    // Let the slow invocation reach its environment before the code changes.
    await new Promise((resolve) => setTimeout(resolve, 100));

    const second = writeBundle('v2');
    runner.reload(fn.key, second);
    // A function in use gets an environment on the new code at once: its init phase runs before any request.
    for (let waited = 0; !logged.includes('init v2'); waited += 20) {
      if (waited > 30_000) throw new Error('the new code was not loaded');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const fresh = (await runner.invoke(fn.key, {})) as Answer;
    expect(fresh).toMatchObject({ version: 'v2', taskRoot: second });
    expect(fresh.environmentId).not.toBe(warm.environmentId);
    expect(await inFlight).toMatchObject({ version: 'v1' });

    // The old environments are gone: every invocation from now on runs v2, even several at once.
    const after = (await Promise.all([
      runner.invoke(fn.key, { sleepMs: 50 }),
      runner.invoke(fn.key, { sleepMs: 50 }),
      runner.invoke(fn.key, {}),
    ])) as Answer[];
    expect(after.map((answer) => answer.version)).toEqual(['v2', 'v2', 'v2']);
  });

  it('refuses to reload a function it does not run', () => {
    expect(() => runner.reload('Nope/Nope', root)).toThrow('Function not found: Nope/Nope');
  });
});
