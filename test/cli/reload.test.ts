import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DevSession } from '../../local/cli/dev';
import { runDev } from '../../local/cli/dev';
import { loadedFiles } from '../../local/cli/cdk-app';
import { tokenFor } from '../../local/cli/token';
import type { LocalRoute, LocalSystem } from '../../local/model';
import { routeChanges, systemChanges } from '../../local/provisioner/changes';

// `cdk-microservices dev` on a team's app whose contracts module is imported by its infrastructure code (the
// route's request model, RequestSchema.fromZod) and by its handler: an edit of the contracts re-synthesizes the
// app (the synth's loaded files are watched, not only bin/ and lib/), the reload names the route whose request
// model changed, and the next request is validated against the new model.

const ROOT = path.join(__dirname, '..', '..');

/** The contracts module: the body of POST /payments, with these currencies. */
function writeContracts(dir: string, currencies: readonly string[]): void {
  fs.writeFileSync(
    path.join(dir, 'contracts', 'payments.ts'),
    `import { z } from 'zod';

export const RequestPaymentInput = z.strictObject({
  amount: z.number(),
  currency: z.enum(${JSON.stringify(currencies)}),
});
`,
  );
}

/** The team's app: cdk.json, bin/app.ts (POST /payments with the contracts' request model), the handler. */
function writeApp(dir: string): void {
  for (const folder of ['bin', 'contracts', 'handlers'])
    fs.mkdirSync(path.join(dir, folder), { recursive: true });
  // The app's dependencies are this repository's (aws-cdk-lib, tsx, zod): linked, as an install would provide them.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts', context: {} }));
  writeContracts(dir, ['EUR', 'USD']);
  // Imported by the handler only: not infrastructure code.
  fs.writeFileSync(path.join(dir, 'handlers', 'format.ts'), `export const PREFIX = 'paid';\n`);
  fs.writeFileSync(
    path.join(dir, 'handlers', 'request-payment.ts'),
    `import { RequestPaymentInput } from '../contracts/payments';
import { PREFIX } from './format';

export async function handler(event: { body: string | null }) {
  const input = RequestPaymentInput.parse(JSON.parse(event.body ?? '{}'));
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: PREFIX, currency: input.currency }) };
}
`,
  );
  fs.writeFileSync(
    path.join(dir, 'bin', 'app.ts'),
    `import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AccessMode, DataProtection, HttpMethod, Microservice, PlatformReference, RequestSchema, RouteAccess } from ${JSON.stringify(path.join(ROOT, 'lib', 'index'))};
import { RequestPaymentInput } from '../contracts/payments';

const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
const stack = new Stack(app, 'Payments-' + envName);
const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName });
new Microservice(stack, 'Payments', {
  serviceName: 'payments',
  platform,
  partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  dataProtection: DataProtection.DESTROY,
  timeout: Duration.seconds(5),
  routes: [
    {
      method: HttpMethod.POST,
      path: '/payments',
      entry: path.join(__dirname, '..', 'handlers', 'request-payment.ts'),
      access: RouteAccess.scopes('payments.write'),
      tableAccess: AccessMode.READ_WRITE,
      requestSchema: RequestSchema.fromZod(RequestPaymentInput),
    },
  ],
});
`,
  );
}

describe('route changes', () => {
  const route: LocalRoute = {
    service: 'payments',
    method: 'POST',
    resourcePath: '/payments',
    authorization: { type: 'NONE' } as unknown as LocalRoute['authorization'],
    functionKey: 'fn',
    requiredParameters: [],
    requestSchema: { type: 'object', properties: { currency: { enum: ['EUR', 'USD'] } } },
    validateBody: true,
    stage: 'v1',
  };
  const system = (routes: LocalRoute[]) =>
    ({ routes, resources: [], functions: new Map() }) as unknown as LocalSystem;

  it('names a route whose request model or settings changed', () => {
    const changed = {
      ...route,
      requestSchema: { type: 'object', properties: { currency: { enum: ['EUR', 'USD', 'GBP'] } } },
    };
    expect(routeChanges(system([route]), system([changed]))).toEqual([
      '~ route POST /payments/payments (request model)',
    ]);
    expect(routeChanges(system([route]), system([{ ...changed, validateBody: false }]))).toEqual([
      '~ route POST /payments/payments (request model, request validator)',
    ]);
    expect(systemChanges(system([route]), system([changed]))).toEqual([
      '~ route POST /payments/payments (request model)',
    ]);
    expect(routeChanges(system([route]), system([{ ...route }]))).toEqual([]);
  });
});

describe('dev: a module loaded by the app and by a handler', () => {
  let dir: string;
  let session: DevSession;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-reload-'));
    writeApp(dir);
    session = await runDev({ appDir: dir, port: 0, watch: true, print: (line) => lines.push(line) });
  }, 300_000);

  afterAll(async () => {
    if (process.env.CLI_TEST_LOG) fs.writeFileSync(process.env.CLI_TEST_LOG, lines.join('\n'));
    await session?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function pay(currency: string) {
    const token = await tokenFor('demo@example.com', dir);
    const response = await fetch(`${session.runtime.apiUrl}/payments/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ amount: 10, currency }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  it('records what the synth loaded: the contracts and the app, not a module only the handler imports', () => {
    const assemblyDirs = fs
      .readdirSync(path.join(dir, 'cdk.out.local'))
      .filter((name) => /^dev-\d+-\d+$/.test(name))
      .map((name) => path.join(dir, 'cdk.out.local', name));
    const files = assemblyDirs.flatMap((assemblyDir) => loadedFiles(assemblyDir) ?? []);
    const real = (file: string) => fs.realpathSync(path.join(dir, file));
    expect(files.map((file) => fs.realpathSync(file))).toEqual(
      expect.arrayContaining([real('bin/app.ts'), real('contracts/payments.ts')]),
    );
    expect(files.map((file) => fs.realpathSync(file))).not.toContain(real('handlers/format.ts'));
    expect(files.map((file) => fs.realpathSync(file))).not.toContain(real('handlers/request-payment.ts'));
    expect(files.some((file) => file.includes(`${path.sep}node_modules${path.sep}`))).toBe(false);
  });

  it('re-synthesizes on an edit of the contracts: the reload names the route, the new model is enforced', async () => {
    expect(await pay('EUR')).toEqual({ status: 200, body: { status: 'paid', currency: 'EUR' } });
    expect((await pay('GBP')).status).toBe(400);

    writeContracts(dir, ['EUR', 'USD', 'GBP']);
    const deadline = Date.now() + 200_000;
    while (
      !lines.some((l) => /^\[reload\] (Applied|Could not|Synth failed)/.test(l)) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const reloadLines = lines.filter((l) => l.startsWith('[reload]'));
    expect(reloadLines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[reload\] Infrastructure changed \(.*contracts\/payments\.ts\): re-synthesizing/,
        ),
        expect.stringMatching(/^\[reload\] Applied in [\d.]+ s \(table data kept\):$/),
        '[reload]   ~ route POST /payments/payments (request model)',
      ]),
    );
    expect(reloadLines.join('\n')).not.toContain('no infrastructure change');
    expect(await pay('GBP')).toEqual({ status: 200, body: { status: 'paid', currency: 'GBP' } });
  }, 240_000);
});
