import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { DevProcess, PackedLibrary, ScratchApp } from '../support/scratch-app';
import {
  createScratchApp,
  groupAlive,
  listening,
  packLibrary,
  poll,
  ROOT,
  run,
  startDev,
  succeeded,
} from '../support/scratch-app';

// The consumer test tests the package. This repository is packed (`npm pack`, whose prepack builds dist/), and
// another team's app — test/fixtures/consumer-app: a `payments` service in its own repository layout, attached to
// the Shop platform by name — is copied to a folder outside the repository, where the tarball and only the
// packages the guide (docs/GUIDE.md, "Install") lists are installed with npm. Then, as that team would: `tsc
// --noEmit`, `cdk synth` with the security checks, cfn-lint, and `npx cdk-microservices dev` serving the app,
// first alone on a stand-in platform, then next to this repository's Shop (`--with`), whose real OrderPlaced
// event its consumer receives.

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'consumer-app');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** What the guide tells a team to install, at the versions this repository pins (its `npm ci` cached them). */
const DEPENDENCIES = [
  'aws-cdk-lib',
  'constructs',
  'cdk-nag',
  'esbuild',
  'zod',
  '@aws-sdk/lib-dynamodb',
  // The IAM simulator is an optional peer of the package: `check` and dev's enforcement need it.
  '@cloud-copilot/iam-simulate',
];
const DEV_DEPENDENCIES = ['aws-cdk', 'typescript', 'tsx', '@types/node', '@types/aws-lambda'];
const pinned = (names: string[]) =>
  Object.fromEntries(
    names.map((name) => [name, manifest.devDependencies[name] ?? manifest.dependencies[name]]),
  );

/** The package's entry points: CommonJS for CDK apps and tests, ESM for Lambda bundles. */
const ENTRY_POINTS = [
  'cdk-microservices',
  'cdk-microservices/kit',
  'cdk-microservices/kit/http',
  'cdk-microservices/contracts',
  'cdk-microservices/local',
];

const timings: Record<string, string> = {};
const seconds = (value: number) => `${value.toFixed(1)} s`;
let work: string;
let packed: PackedLibrary;
let app: ScratchApp;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-package-'));
  packed = await packLibrary(work);
  timings['npm pack'] = seconds(packed.seconds);
  app = await createScratchApp({
    fixture: FIXTURE,
    tarball: packed.tarball,
    dependencies: pinned(DEPENDENCIES),
    devDependencies: pinned(DEV_DEPENDENCIES),
  });
  timings['npm install'] = seconds(app.installSeconds);
}, 1_800_000);

afterAll(() => {
  console.log(`consumer app ${app?.dir ?? '(not created)'}: ${JSON.stringify(timings)}`);
  if (process.env.KEEP_CONSUMER_APP) return;
  for (const dir of [work, app?.dir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** `npx <args>` in the scratch app. */
const npx = (args: string[], timeoutMs = 600_000) => run('npx', args, app.dir, { timeoutMs });

describe('the packed library installed into a team app outside this repository', () => {
  it('resolves every entry point and the CLI inside the app, never in this repository', async () => {
    // Resolved by Node from the app's folder, as `require` (CDK apps, tests) and as `import` (Lambda bundles).
    const probe = path.join(app.dir, 'resolve-entries.mjs');
    fs.writeFileSync(
      probe,
      [
        "import { createRequire } from 'node:module';",
        "import { realpathSync } from 'node:fs';",
        "import { fileURLToPath } from 'node:url';",
        'const require = createRequire(import.meta.url);',
        `const entries = ${JSON.stringify(ENTRY_POINTS)};`,
        'console.log(JSON.stringify({',
        '  resolved: entries.map((entry) => ({',
        '    entry,',
        '    require: realpathSync(require.resolve(entry)),',
        '    import: realpathSync(fileURLToPath(import.meta.resolve(entry))),',
        '  })),',
        "  cli: realpathSync('node_modules/.bin/cdk-microservices'),",
        "  cdk: realpathSync(require.resolve('aws-cdk-lib')),",
        "  zod: realpathSync(require.resolve('zod/mini')),",
        '}));',
        '',
      ].join('\n'),
    );
    const result = succeeded(await run(process.execPath, [probe], app.dir));
    const { resolved, cli, cdk, zod } = JSON.parse(result.stdout) as {
      resolved: Array<{ entry: string; require: string; import: string }>;
      cli: string;
      cdk: string;
      zod: string;
    };
    const installed = path.join(fs.realpathSync(app.dir), 'node_modules');
    const packageDir = path.join(installed, 'cdk-microservices');
    expect(fs.lstatSync(path.join(app.dir, 'node_modules', 'cdk-microservices')).isSymbolicLink()).toBe(
      false,
    );
    // Each entry point lands on the file package.json's exports name for it, in the app's node_modules: the
    // CommonJS build for require, the ESM build of the kit and the contracts for import (Lambda bundles).
    const inApp = (file: string) => path.relative(installed, file);
    const target = (entry: string, condition: 'require' | 'import') => {
      const subpath = `.${entry.slice('cdk-microservices'.length)}`;
      const [pattern, value] = Object.entries(manifest.exports).find(([key]) =>
        key.includes('*') ? subpath.startsWith(key.slice(0, key.indexOf('*'))) : key === subpath,
      )!;
      const conditions = typeof value === 'string' ? { default: value } : value;
      const file = conditions[condition] ?? conditions.default;
      const star = pattern.includes('*') ? subpath.slice(pattern.indexOf('*')) : '';
      return path.join('cdk-microservices', file.replace('*', star));
    };
    expect(
      resolved.map((e) => ({ entry: e.entry, require: inApp(e.require), import: inApp(e.import) })),
    ).toEqual(
      ENTRY_POINTS.map((entry) => ({
        entry,
        require: target(entry, 'require'),
        import: target(entry, 'import'),
      })),
    );
    expect(
      resolved.filter((e) => /\/(kit|contracts)/.test(e.entry)).map((e) => path.extname(e.import)),
    ).toEqual(['.mjs', '.mjs', '.mjs']);
    expect({ cli: inApp(cli), cdk: inApp(cdk), zod: inApp(zod) }).toEqual({
      cli: expect.stringMatching(/^cdk-microservices\/dist\/local\/cli\/index\.js$/),
      cdk: expect.stringMatching(/^aws-cdk-lib\//),
      zod: expect.stringMatching(/^zod\//),
    });
    const everything = JSON.stringify({ resolved, cli, cdk, zod });
    expect(everything).not.toContain(fs.realpathSync(ROOT));
    // The reference system (the Shop) is not in the package.
    for (const shop of [
      'dist/lib/stacks',
      'dist/lib/config',
      'dist/bin',
      'functions/orders',
      'functions/users',
    ]) {
      expect({ shop, shipped: fs.existsSync(path.join(packageDir, shop)) }).toEqual({ shop, shipped: false });
    }
  }, 600_000);

  it("copies the cdk.json context the guide tells teams to copy: this repository's feature flags", () => {
    const ours = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: object };
    const theirs = JSON.parse(fs.readFileSync(path.join(app.dir, 'cdk.json'), 'utf8')) as {
      app: string;
      context: object;
    };
    expect(theirs.app).toBe('npx tsx bin/app.ts');
    expect(theirs.context).toEqual(ours.context);
  });

  it.each([
    ['node16', []],
    ['node10', ['--module', 'commonjs', '--moduleResolution', 'node10']],
  ])(
    'type-checks with tsc --noEmit (moduleResolution %s)',
    async (resolution, flags) => {
      const tsc = await npx(['tsc', '--noEmit', '-p', '.', ...flags]);
      timings[`tsc ${resolution}`] = seconds(tsc.seconds);
      expect({ output: tsc.stdout + tsc.stderr, status: tsc.status }).toEqual({ output: '', status: 0 });
    },
    600_000,
  );
});

describe('cdk synth -c env=dev of the team app, with the security checks', () => {
  const outdir = () => path.join(app.dir, 'cdk.out');
  let synth: Awaited<ReturnType<typeof run>>;
  let template: {
    Parameters: Record<string, { Type: string; Default?: string }>;
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const resourcesOf = (type: string) =>
    Object.values(template.Resources).filter((resource) => resource.Type === type);

  beforeAll(async () => {
    synth = await npx(['cdk', 'synth', '-c', 'env=dev', '--quiet', '--no-notices']);
    timings['cdk synth'] = seconds(synth.seconds);
    succeeded(synth);
    template = JSON.parse(fs.readFileSync(path.join(outdir(), 'Payments-dev.template.json'), 'utf8'));
  }, 900_000);

  it('synthesizes the one stack with no cdk-nag finding and no feature-flag notice', () => {
    const manifestJson = JSON.parse(fs.readFileSync(path.join(outdir(), 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string }>;
    };
    expect(
      Object.entries(manifestJson.artifacts)
        .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
        .map(([name]) => name),
    ).toEqual(['Payments-dev']);
    const report = JSON.parse(fs.readFileSync(path.join(outdir(), 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ violations?: unknown[] }>;
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
    expect(synth.stdout + synth.stderr).not.toMatch(
      /feature flags are not configured|AwsSolutions-|Serverless-/,
    );
  });

  it('attaches to the Shop platform by name: registry parameters of Shop/dev, no CloudFormation import', () => {
    const registry = Object.values(template.Parameters)
      .filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>')
      .map((p) => p.Default);
    expect(registry).toEqual(
      expect.arrayContaining([
        '/Shop/dev/platform/user-pool-arn',
        '/Shop/dev/platform/event-bus-arn',
        '/Shop/dev/platform/resource-server-id',
      ]),
    );
    expect(JSON.stringify(template)).not.toContain('Fn::ImportValue');
    expect(resourcesOf('AWS::SSM::Parameter').map((p) => p.Properties.Name)).toEqual(
      expect.arrayContaining(['/Shop/dev/payments/api-url']),
    );
  });

  it('serves its two payment routes and the consumer view, each behind a Cognito scope', () => {
    const methods = resourcesOf('AWS::ApiGateway::Method')
      .filter((m) => m.Properties.HttpMethod !== 'OPTIONS')
      .map((m) => ({
        method: m.Properties.HttpMethod,
        operation: m.Properties.OperationName,
        authorization: m.Properties.AuthorizationType,
        scope: JSON.stringify(m.Properties.AuthorizationScopes).match(/"\/([a-z.]+)"/)?.[1],
      }))
      .sort((a, b) => String(a.operation).localeCompare(String(b.operation)));
    expect(methods).toEqual([
      {
        method: 'GET',
        operation: 'get-orders-orderid',
        authorization: 'COGNITO_USER_POOLS',
        scope: 'orders.read',
      },
      {
        method: 'GET',
        operation: 'get-payments-id',
        authorization: 'COGNITO_USER_POOLS',
        scope: 'payments.read',
      },
      {
        method: 'POST',
        operation: 'post-payments',
        authorization: 'COGNITO_USER_POOLS',
        scope: 'payments.write',
      },
    ]);
  });

  it("subscribes to the Shop's OrderPlaced and publishes its own PaymentRequested through the outbox", () => {
    expect(resourcesOf('AWS::Events::Rule').map((r) => r.Properties.EventPattern)).toEqual([
      { source: ['shop.orders'], 'detail-type': ['OrderPlaced'] },
    ]);
    expect(resourcesOf('AWS::Pipes::Pipe').map((p) => p.Properties.Description)).toEqual([
      'Transactional outbox of shop.payments: PaymentRequested',
    ]);
  });

  it("bundles every handler with the kit's ESM build and one copy of each package", () => {
    const assets = fs.readdirSync(outdir()).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(4); // two routes, the consumer view, the OrderPlaced consumer
    for (const asset of assets) {
      const map = JSON.parse(fs.readFileSync(path.join(outdir(), asset, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      // Paths in the source map are relative to the app: nothing came from outside it (this repository).
      expect(map.sources.filter((source) => source.startsWith('../') || path.isAbsolute(source))).toEqual([]);
      expect(
        map.sources.some((source) => source.startsWith('node_modules/cdk-microservices/dist/esm/')),
      ).toBe(true);
      // A package nested under cdk-microservices is a second copy next to the app's own (e.g. two DynamoDB
      // clients in one bundle): the package's dependency ranges must let npm share one.
      const nested = [
        ...new Set(
          map.sources
            .map(
              (source) =>
                /^node_modules\/cdk-microservices\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(source)?.[1],
            )
            .filter((name): name is string => name !== undefined),
        ),
      ];
      expect({ asset, nested }).toEqual({ asset, nested: [] });
    }
  });

  it('fails synth on a resource of its own that the security checks flag', async () => {
    // A probe app next to the team's (outside tsconfig's include): the library's addSecurityChecks with the
    // installed cdk-nag, over an unencrypted queue without a dead-letter queue.
    fs.mkdirSync(path.join(app.dir, 'probe'), { recursive: true });
    fs.writeFileSync(
      path.join(app.dir, 'probe', 'app.ts'),
      [
        "import { App, Stack } from 'aws-cdk-lib';",
        "import * as sqs from 'aws-cdk-lib/aws-sqs';",
        "import { addSecurityChecks } from 'cdk-microservices';",
        'const app = new App();',
        "new sqs.Queue(new Stack(app, 'Probe'), 'Unchecked');",
        'addSecurityChecks(app);',
        '',
      ].join('\n'),
    );
    const probe = await npx([
      'cdk',
      'synth',
      '--app',
      'npx tsx probe/app.ts',
      '--quiet',
      '--no-notices',
      '-o',
      path.join(app.dir, 'cdk.out.probe'),
    ]);
    expect(probe.status).not.toBe(0);
    expect(probe.stdout + probe.stderr).toMatch(/AwsSolutions-SQS3/);
    expect(probe.stdout + probe.stderr).toMatch(/AwsSolutions-SQS4/);
  }, 600_000);

  it('passes cfn-lint with the .cfnlintrc.yaml the team keeps next to cdk.json', async () => {
    const templates = fs
      .readdirSync(outdir())
      .filter((name) => name.endsWith('.template.json'))
      .map((name) => path.join('cdk.out', name));
    expect(templates).toEqual([path.join('cdk.out', 'Payments-dev.template.json')]);
    const lint = await run('cfn-lint', ['--format', 'parseable', ...templates], app.dir);
    timings['cfn-lint'] = seconds(lint.seconds);
    expect({ output: lint.stdout + lint.stderr, status: lint.status }).toEqual({ output: '', status: 0 });
  }, 600_000);
});

describe('npx cdk-microservices check in the team app', () => {
  it('evaluates what AWS would authorize for dev and prod, and names the scopes the Shop platform must declare', async () => {
    const check = await npx(['cdk-microservices', 'check']);
    timings['cdk-microservices check'] = seconds(check.seconds);
    const output = check.stdout + check.stderr;
    expect({ status: check.status, output }).toEqual({
      status: 0,
      output: expect.stringMatching(/^dev: \d+ interactions evaluated .*; 0 would be refused by AWS$/m),
    });
    expect(output).toMatch(/^prod: \d+ interactions evaluated .*; 0 would be refused by AWS$/m);
    expect(output).toContain(
      'the platform Shop/dev is attached by name: it must declare the scopes orders.read, payments.read, payments.write',
    );
  }, 600_000);
});

/** A JSON request to the running app; the body parsed. */
async function call(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | undefined }> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}

/** `npx cdk-microservices token <user>` in the scratch app: the access token it prints. */
async function tokenOf(user: string): Promise<string> {
  const result = succeeded(await npx(['cdk-microservices', 'token', user], 120_000));
  const token = result.stdout.trim();
  expect(token.split('.')).toHaveLength(3); // a JWT
  return token;
}

/**
 * Stops `dev` as `kill <pid>` would: SIGTERM to the CLI's process alone (its pid is in the file `token` reads),
 * which must then stop the emulator it started and exit; npx, which ran it, exits with it.
 */
async function stopsCompletely(dev: DevProcess | undefined): Promise<void> {
  expect(dev).toBeDefined();
  const info = JSON.parse(fs.readFileSync(path.join(app.dir, '.local-runtime.json'), 'utf8')) as {
    pid: number;
  };
  try {
    process.kill(info.pid, 'SIGTERM');
    const state = async () => ({
      cli: alive(info.pid),
      processGroup: groupAlive(dev!.pid),
      emulator: await listening(dev!.emulatorUrl),
      api: await listening(dev!.apiUrl),
    });
    const stopped = { cli: false, processGroup: false, emulator: false, api: false };
    await poll(async () => (JSON.stringify(await state()) === JSON.stringify(stopped) ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the CLI, npx and the emulator to stop',
      last: dev!.output,
    }).catch(() => undefined);
    expect(await state()).toEqual(stopped);
    expect(dev!.output()).toMatch(/Stopped\./);
    expect(fs.existsSync(path.join(app.dir, '.local-runtime.json'))).toBe(false);
  } finally {
    await dev!.stop(); // whatever is left of the process group
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npx cdk-microservices dev in the team app: a stand-in Shop platform', () => {
  let dev: DevProcess | undefined;

  beforeAll(async () => {
    dev = await startDev(app.dir, ['--port', '0'], { readyTimeoutMs: 600_000 });
    timings['dev ready (stand-in)'] = seconds(dev.readySeconds);
  }, 900_000);

  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  it('says it provisioned a stand-in Shop platform with the scopes the routes use, and prints the routes', () => {
    const output = dev!.output();
    expect(output).toMatch(
      /No platform in this app: a stand-in platform for Shop\/local was provisioned with scopes orders\.read, payments\.read, payments\.write/,
    );
    for (const [method, route, scope] of [
      ['POST', '/payments/payments', 'payments.write'],
      ['GET', '/payments/payments/{id}', 'payments.read'],
      ['GET', '/payments/orders/{orderId}', 'orders.read'],
    ]) {
      expect(output).toMatch(
        new RegExp(`${method} +${dev!.apiUrl}${route.replace(/[{}]/g, '\\$&')} +token with api/${scope}`),
      );
    }
    expect(output).toContain('TOKEN=$(npx cdk-microservices token demo@example.com)');
    expect(output).not.toMatch(/Problems:/);
  });

  it('serves an authenticated round trip: POST 201, then GET 200 with the same payment; 401 without a token', async () => {
    const token = await tokenOf('demo@example.com');
    const started = Date.now();
    const orderId = '6c3e2b9a-1f4d-4c1e-8d7a-2b5f9e0c3a71';
    const created = await call(`${dev!.apiUrl}/payments/payments`, {
      method: 'POST',
      token,
      body: { orderId, amount: 12.5, currency: 'EUR' },
    });
    expect(created).toMatchObject({
      status: 201,
      body: { orderId, amount: 12.5, currency: 'EUR', status: 'REQUESTED', id: expect.any(String) },
    });
    const id = String(created.body!.id);
    expect(created.headers.get('location')).toBe(`/payments/payments/${id}`);
    const read = await call(`${dev!.apiUrl}/payments/payments/${id}`, { token });
    expect(read).toMatchObject({ status: 200, body: created.body });
    timings['round trip (stand-in)'] = seconds((Date.now() - started) / 1000);

    expect((await call(`${dev!.apiUrl}/payments/payments/${id}`)).status).toBe(401);
    expect(
      (await call(`${dev!.apiUrl}/payments/payments`, { method: 'POST', body: { orderId, amount: 1 } }))
        .status,
    ).toBe(401);
    const missing = await call(`${dev!.apiUrl}/payments/payments/${orderId}`, { token });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'PAYMENT_NOT_FOUND' } } });
    const invalid = await call(`${dev!.apiUrl}/payments/payments`, {
      method: 'POST',
      token,
      body: { orderId: 'not-a-uuid', amount: -1, currency: 'EUR' },
    });
    expect(invalid.status).toBe(400);
  }, 300_000);

  it('serves an edited handler on the next requests, with the data kept (hot reload)', async () => {
    const token = await tokenOf('demo@example.com');
    const created = await call(`${dev!.apiUrl}/payments/payments`, {
      method: 'POST',
      token,
      body: { orderId: '9a7b5c3d-1e2f-4a6b-8c9d-0e1f2a3b4c5d', amount: 7, currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    const handler = path.join(app.dir, 'handlers', 'get-payment.ts');
    const original = fs.readFileSync(handler, 'utf8');
    const edited = original.replace('body: { id, orderId,', 'body: { revision: 2, id, orderId,');
    expect(edited).not.toBe(original);
    const savedAt = Date.now();
    fs.writeFileSync(handler, edited);
    try {
      const read = await poll(
        async () => {
          const answer = await call(`${dev!.apiUrl}/payments/payments/${String(created.body!.id)}`, {
            token,
          });
          return answer.body?.revision === 2 ? answer : undefined;
        },
        { timeoutMs: 30_000, what: 'the edited handler to answer', last: dev!.output },
      );
      timings['handler edit → served'] = seconds((Date.now() - savedAt) / 1000);
      expect(read).toMatchObject({ status: 200, body: { ...created.body, revision: 2 } });
    } finally {
      fs.writeFileSync(handler, original);
    }
  }, 120_000);

  it("publishes PaymentRequested through its outbox onto the platform's bus", async () => {
    const info = JSON.parse(fs.readFileSync(path.join(app.dir, '.local-runtime.json'), 'utf8')) as {
      emulator: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
    };
    const config = {
      endpoint: info.emulator.endpoint,
      region: info.emulator.region,
      credentials: { accessKeyId: info.emulator.accessKeyId, secretAccessKey: info.emulator.secretAccessKey },
    };
    const sqs = new SQSClient(config);
    const events = new EventBridgeClient(config);
    try {
      // What another team subscribed to PaymentRequested would get: a rule on the platform's bus.
      const busArn = await busOf(config);
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'payment-requested-probe' })))
        .QueueUrl!;
      const queueArn = (
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
      ).Attributes!.QueueArn!;
      const busName = busArn.split('/').pop()!;
      await events.send(
        new PutRuleCommand({
          Name: 'payment-requested-probe',
          EventBusName: busName,
          EventPattern: JSON.stringify({ source: ['shop.payments'], 'detail-type': ['PaymentRequested'] }),
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: 'payment-requested-probe',
          EventBusName: busName,
          Targets: [{ Id: 'probe', Arn: queueArn }],
        }),
      );
      const token = await tokenOf('demo@example.com');
      const orderId = '0f8d2c4e-7a1b-4e3c-9b6d-5a2f8e1c4d07';
      const created = await call(`${dev!.apiUrl}/payments/payments`, {
        method: 'POST',
        token,
        body: { orderId, amount: 30, currency: 'USD' },
      });
      expect(created.status).toBe(201);
      const message = await poll(
        async () => {
          const received = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
          );
          return received.Messages?.[0]?.Body;
        },
        { timeoutMs: 60_000, what: 'PaymentRequested on the bus', last: dev!.output },
      );
      const event = JSON.parse(message) as { source: string; 'detail-type': string };
      expect({ source: event.source, detailType: event['detail-type'] }).toEqual({
        source: 'shop.payments',
        detailType: 'PaymentRequested',
      });
      // Parsed as a subscribing team would: the kit's parseRecord with the team's contract, in the app.
      fs.mkdirSync(path.join(app.dir, 'probe'), { recursive: true });
      fs.writeFileSync(
        path.join(app.dir, 'probe', 'parse-event.ts'),
        [
          "import type { SQSRecord } from 'aws-lambda';",
          "import { on, parseRecord } from 'cdk-microservices/kit/events';",
          "import { PaymentRequested } from '../contracts/payments';",
          'const record = { messageId: "probe", body: process.argv[2] } as SQSRecord;',
          'const { envelope } = parseRecord(record, [on(PaymentRequested, async () => undefined)]);',
          'console.log(JSON.stringify(envelope));',
          '',
        ].join('\n'),
      );
      const parsed = succeeded(await npx(['tsx', 'probe/parse-event.ts', message], 120_000));
      expect(JSON.parse(parsed.stdout)).toEqual({
        id: expect.any(String),
        type: 'PaymentRequested',
        version: 1,
        source: 'shop.payments',
        occurredAt: expect.any(String),
        correlationId: created.headers.get('x-correlation-id'),
        data: { paymentId: created.body!.id, orderId, amount: 30, currency: 'USD' },
      });
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    } finally {
      sqs.destroy();
      events.destroy();
    }
  }, 300_000);

  it('stops on SIGTERM: the CLI, its functions and the emulator it started are gone', async () => {
    await stopsCompletely(dev);
  }, 90_000);
});

/** The event bus of the stand-in platform, from its registry entry. */
async function busOf(config: ConstructorParameters<typeof SSMClient>[0] & object): Promise<string> {
  const ssm = new SSMClient(config);
  try {
    const parameter = await ssm.send(new GetParameterCommand({ Name: '/Shop/local/platform/event-bus-arn' }));
    return parameter.Parameter!.Value!;
  } finally {
    ssm.destroy();
  }
}

describe('npx cdk-microservices dev --with this repository: the payments service next to the Shop', () => {
  let dev: DevProcess | undefined;

  beforeAll(async () => {
    // --no-watch: this run is about events between the apps; reloading has its own tests, and watching this
    // repository's sources would re-synthesize the Shop whenever someone edits it while the suite runs.
    dev = await startDev(app.dir, ['--port', '0', '--with', ROOT, '--no-watch'], { readyTimeoutMs: 900_000 });
    timings['dev ready (--with Shop)'] = seconds(dev.readySeconds);
  }, 1_200_000);

  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  it('uses the Shop platform and reports the payments scopes it does not declare', () => {
    const output = dev!.output();
    expect(output).not.toMatch(/stand-in platform/i);
    // The Shop's platform grants users.*, orders.* and inventory.read: a token for the payments routes cannot
    // exist until the Shop's platform team adds the scopes (docs/GUIDE.md, "What the platform team must add").
    for (const [route, scope] of [
      ['POST /payments', 'payments.write'],
      ['GET /payments/{id}', 'payments.read'],
    ]) {
      expect(output).toContain(
        `Payments-local: ${route} requires the scope "${scope}", which the platform Shop/local does not declare`,
      );
    }
    // The route that shows what the consumer recorded asks for orders.read, which every shopper has.
    expect(output).not.toMatch(/requires the scope "orders\.read"/);
  });

  it("receives the Shop's real OrderPlaced when a shopper places an order, and shows it through its route", async () => {
    const api = dev!.apiUrl;
    const [token, admin] = [await tokenOf('demo@example.com'), await tokenOf('admin@example.com')];
    const profile = await call(`${api}/users/profiles`, {
      method: 'POST',
      token,
      body: { email: 'demo@example.com', displayName: 'Demo' },
    });
    expect(profile.status).toBe(201);
    const stock = await call(`${api}/inventory/inventory/SKU-1`, {
      method: 'PUT',
      token: admin,
      body: { available: 5 },
    });
    expect(stock.status).toBe(200);
    const placedAt = Date.now();
    const order = await call(`${api}/orders/orders`, {
      method: 'POST',
      token,
      headers: { 'idempotency-key': 'consumer-test-0001' },
      body: { lines: [{ sku: 'SKU-1', quantity: 2 }] },
    });
    expect(order).toMatchObject({ status: 201, body: { status: 'PENDING', customerId: profile.body!.id } });
    const orderId = String(order.body!.id);

    const recorded = await poll(
      async () => {
        const answer = await call(`${api}/payments/orders/${orderId}`, { token });
        if (answer.status === 404) return undefined;
        return answer;
      },
      { timeoutMs: 120_000, what: "the payments consumer's record of OrderPlaced", last: dev!.output },
    );
    timings['OrderPlaced → payments consumer'] = seconds((Date.now() - placedAt) / 1000);
    expect(recorded).toEqual({
      status: 200,
      headers: expect.anything(),
      body: {
        orderId,
        customerId: profile.body!.id,
        units: 2,
        status: 'AWAITING_PAYMENT',
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        correlationId: order.headers.get('x-correlation-id'),
      },
    });
  }, 300_000);

  it("answers 403 on the payments routes to a token of the Shop's platform, which lacks their scopes", async () => {
    const token = await tokenOf('demo@example.com');
    const read = await call(`${dev!.apiUrl}/payments/payments/6c3e2b9a-1f4d-4c1e-8d7a-2b5f9e0c3a71`, {
      token,
    });
    expect(read.status).toBe(403);
  }, 120_000);

  it('stops on SIGTERM: the CLI, the functions of both apps and the emulator are gone', async () => {
    await stopsCompletely(dev);
  }, 90_000);
});
