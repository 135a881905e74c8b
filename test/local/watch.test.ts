import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { ServiceFunction } from '../../lib';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { FunctionRunner } from '../../local/function-runner';
import type { EmulatorEndpoint, LocalFunction } from '../../local/model';
import { sleep } from '../../local/util';

const emulator: EmulatorEndpoint = {
  endpoint: 'http://127.0.0.1:9',
  region: 'eu-west-1',
  accessKeyId: 'testing',
  secretAccessKey: 'testing',
};

/** Generous: the test machine may be busy; a reload normally takes well under a second. */
const PICKED_UP_WITHIN_MS = 30_000;

/**
 * Another team's project in a folder of its own (outside the repository): a handler importing a helper
 * module, synthesized with ServiceFunction into a cloud assembly, then run by the function runner.
 */
function project(): { dir: string; functions: Map<string, LocalFunction> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hot-reload-test-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'payments', private: true }));
  fs.mkdirSync(path.join(dir, 'src', 'lib'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'lib', 'greeting.ts'), greeting('v1'));
  fs.writeFileSync(
    path.join(dir, 'src', 'handler.ts'),
    [
      "import { greeting } from './lib/greeting';",
      'let invocations = 0;',
      'export const handler = async () => ({ greeting: greeting(), invocations: ++invocations });',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'src', 'refund.ts'),
    "import { greeting } from './lib/greeting';\nexport const handler = async () => ({ greeting: greeting() });\n",
  );
  const app = new App({ outdir: path.join(dir, 'cdk.out'), context: cdkJsonContext() });
  const stack = new Stack(app, 'Payments');
  for (const [id, file] of [
    ['Pay', 'handler.ts'],
    ['Refund', 'refund.ts'],
  ]) {
    new ServiceFunction(stack, id, {
      entry: path.join(dir, 'src', file),
      serviceName: 'payments',
      metricsNamespace: 'Test',
      description: `payments: ${id === 'Pay' ? 'POST /payments' : 'POST /refunds'}`,
    });
  }
  const assembly = app.synth();
  const template = assembly.getStackByName('Payments').template as {
    Resources: Record<
      string,
      { Type: string; Properties: { Code?: { S3Key?: string }; Description: string } }
    >;
  };
  const functions = new Map<string, LocalFunction>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    // Staged as asset.<hash>, published as <hash>.zip.
    const hash = path.basename(resource.Properties.Code!.S3Key!, '.zip');
    const key = resource.Properties.Description.includes('refunds') ? 'Payments/Refund' : 'Payments/Pay';
    functions.set(key, {
      key,
      name: key.replace('/', '-').toLowerCase(),
      stackName: 'Payments',
      logicalId,
      description: resource.Properties.Description,
      assetDir: path.join(assembly.directory, `asset.${hash}`),
      handler: 'index.handler',
      timeoutSeconds: 10,
      memoryMb: 256,
      environment: {},
    });
  }
  return { dir, functions };
}

function greeting(value: string): string {
  return `export const greeting = (): string => '${value}';\n`;
}

/** Invokes until the handler answers `expected` (the reload is asynchronous), or fails after a while. */
async function eventually(runner: FunctionRunner, key: string, expected: string): Promise<void> {
  const deadline = Date.now() + PICKED_UP_WITHIN_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    last = ((await runner.invoke(key, {})) as { greeting: string }).greeting;
    if (last === expected) return;
    await sleep(50);
  }
  throw new Error(`still answering ${JSON.stringify(last)}, expected ${expected}`);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + PICKED_UP_WITHIN_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('FunctionRunner.watch (hot reload)', () => {
  let dir: string;
  let key: string;
  let runner: FunctionRunner;
  let stop: () => void;
  const lines: string[] = [];
  const helper = () => path.join(dir, 'src', 'lib', 'greeting.ts');

  beforeAll(() => {
    const made = project();
    dir = made.dir;
    key = 'Payments/Pay';
    runner = new FunctionRunner(made.functions, emulator, { log: () => undefined });
    stop = runner.watch((line) => lines.push(line));
  });

  afterAll(async () => {
    stop();
    await runner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('says what it watches', () => {
    expect(lines[0]).toMatch(/^\[reload\] watching 3 source files of 2 functions/);
  });

  it('serves an edit of a module the handler imports on the next requests, and says so', async () => {
    expect(await runner.invoke(key, {})).toEqual({ greeting: 'v1', invocations: 1 });
    fs.writeFileSync(helper(), greeting('v2'));
    await eventually(runner, key, 'v2');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^\[reload\] src\/lib\/greeting\.ts changed: payments: POST \/payments rebuilt in \d+ ms \(1 not invoked yet: rebuilt before its next request\)$/,
      ),
    );
    // The new code starts in a fresh execution environment (module state starts over).
    expect(await runner.invoke(key, {})).toMatchObject({ greeting: 'v2' });
  });

  it('rebuilds a function nobody invoked yet before its first request, not on every change', async () => {
    const before = lines.length;
    expect(await runner.invoke('Payments/Refund', {})).toEqual({ greeting: 'v2' });
    expect(lines.slice(before)).toContainEqual(
      expect.stringMatching(
        /^\[reload\] first request since its sources changed: payments: POST \/refunds rebuilt in \d+ ms$/,
      ),
    );
    // In use from now on: rebuilt on changes like the other.
    fs.writeFileSync(helper(), greeting('v2b'));
    await eventually(runner, key, 'v2b');
    await until(
      () =>
        lines.some((line) =>
          /changed: payments: POST \/payments, payments: POST \/refunds rebuilt/.test(line),
        ),
      'both functions rebuilt',
    );
    expect(await runner.invoke('Payments/Refund', {})).toEqual({ greeting: 'v2b' });
  });

  it('follows editors that save by writing a new file and renaming it over the old one', async () => {
    const temporary = `${helper()}.swp`;
    fs.writeFileSync(temporary, greeting('v3'));
    fs.renameSync(temporary, helper());
    await eventually(runner, key, 'v3');
  });

  it('keeps serving the previous code when the edit does not build, and prints the error', async () => {
    const before = lines.length;
    fs.writeFileSync(helper(), "export const greeting = (): string => 'v4';\nexport const = ;\n");
    await until(() => lines.slice(before).some((line) => /failed/.test(line)), 'the build error');
    const printed = lines.slice(before).join('\n');
    expect(printed).toMatch(
      /\[reload\] src\/lib\/greeting\.ts changed: the build of payments: POST \/payments, payments: POST \/refunds failed; the previous code keeps serving/,
    );
    // One error, printed once for both functions it broke.
    expect(printed.match(/\[ERROR\]/g)).toHaveLength(1);
    expect(printed).toMatch(/\[ERROR\] Expected identifier but found "="/);
    expect(printed).toMatch(/^ +src\/lib\/greeting\.ts:2:\d+:$/m);
    expect(await runner.invoke(key, {})).toMatchObject({ greeting: 'v3' });
    // Fixing the file reloads as usual.
    fs.writeFileSync(helper(), greeting('v5'));
    await eventually(runner, key, 'v5');
  });

  it('watches modules a reloaded handler starts importing', async () => {
    fs.writeFileSync(path.join(dir, 'src', 'lib', 'suffix.ts'), "export const suffix = '-a';\n");
    fs.writeFileSync(
      helper(),
      "import { suffix } from './suffix';\nexport const greeting = (): string => 'v6' + suffix;\n",
    );
    await eventually(runner, key, 'v6-a');
    fs.writeFileSync(path.join(dir, 'src', 'lib', 'suffix.ts'), "export const suffix = '-b';\n");
    await eventually(runner, key, 'v6-b');
  });

  it('keeps the warm environments when an edit does not change the bundle (a comment)', async () => {
    const warm = (await runner.invoke(key, {})) as { invocations: number };
    const before = lines.length;
    fs.writeFileSync(
      path.join(dir, 'src', 'lib', 'suffix.ts'),
      "// the suffix\nexport const suffix = '-b';\n",
    );
    await until(
      () =>
        lines.slice(before).some((line) => /the code of payments: POST \/payments.* is the same/.test(line)),
      'the rebuild',
    );
    // The same execution environment answers: its module state goes on.
    expect(await runner.invoke(key, {})).toMatchObject({
      greeting: 'v6-b',
      invocations: warm.invocations + 1,
    });
  });

  it('stops watching when told to', async () => {
    stop();
    const before = lines.length;
    fs.writeFileSync(helper(), greeting('v7'));
    // Nothing can pick the edit up any more; give a watcher that would (wrongly) still run time to do so.
    await sleep(1_500);
    expect(await runner.invoke(key, {})).toMatchObject({ greeting: 'v6-b' });
    expect(lines.slice(before)).toEqual([]);
  });
});

describe('FunctionRunner.watch without recorded sources', () => {
  it('names the functions it cannot reload', async () => {
    const fn: LocalFunction = {
      key: 'Old/Fn',
      name: 'old-fn',
      stackName: 'Old',
      logicalId: 'Fn',
      description: '',
      assetDir: path.join(__dirname, 'fixtures'),
      handler: 'env-handler.handler',
      timeoutSeconds: 5,
      memoryMb: 128,
      environment: {},
    };
    const runner = new FunctionRunner(new Map([[fn.key, fn]]), emulator, { log: () => undefined });
    const lines: string[] = [];
    const stop = runner.watch((line) => lines.push(line));
    stop();
    await runner.close();
    expect(lines).toEqual([
      expect.stringMatching(/watching 0 source files of 0 functions/),
      '[reload] not reloaded (no sources recorded when the app was synthesized): old-fn',
    ]);
  });
});
