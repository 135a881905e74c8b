import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCdkApp, synthesizeApp } from '../../local/cli/cdk-app';
import { runCheck } from '../../local/cli/check';
import { checkAssembly } from '../../local/iam/check';

// `cdk-microservices check` on a team's app attached to the Shop platform by name (test/fixtures/cli-app: the
// payments service, no platform of its own): the app is checked on top of the stand-in platform `dev` provisions
// for it, so the registry entries it reads exist; only the app's own interactions are evaluated and reported, and
// the scopes the real platform must declare are named.

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'cli-app');

type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

let dev: string;

beforeAll(async () => {
  dev = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-app-'));
  await synthesizeApp(readCdkApp(FIXTURE), {
    outdir: dev,
    context: { env: 'dev', 'aws:cdk:bundling-stacks': [] },
  });
}, 120_000);

afterAll(() => {
  fs.rmSync(dev, { recursive: true, force: true });
});

/** Runs the command; its exit code and printed lines. */
async function check(options: Parameters<typeof runCheck>[0]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runCheck({ ...options, print: (line) => lines.push(line) });
  return { code, output: lines.join('\n') };
}

it('cannot provision the app alone: the platform registry entries it reads were never written', async () => {
  await expect(checkAssembly(dev)).rejects.toThrow(
    /Payments-dev reads SSM parameter \/Shop\/dev\/platform\/[^ ]+, which no stack provisioned before it has written/,
  );
}, 120_000);

it('checks the app on top of a stand-in platform: exit 0, its own interactions only, and the scope note', async () => {
  const { code, output } = await check({ appDir: FIXTURE, envs: ['dev'] });
  expect({ code, output }).toEqual({
    code: 0,
    output: expect.stringMatching(/^dev: \d+ interactions evaluated \(.*\); 0 would be refused by AWS$/m),
  });
  // The app's routes, subscription and alarms (to the platform's topic), none of the stand-in's own (its trigger).
  expect(output).toMatch(/\d+ api → function/);
  expect(output).toMatch(/\d+ rule → queue/);
  expect(output).toMatch(/\d+ alarm → topic/);
  expect(output).not.toMatch(/trigger → function/);
  expect(output).toContain(
    '  ! the platform Shop/dev is attached by name: it must declare the scopes payments.read',
  );
}, 180_000);

it('still names an interaction of the app that AWS would refuse, and exits 1', async () => {
  const edited = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-app-edited-'));
  try {
    fs.cpSync(dev, edited, { recursive: true });
    const file = path.join(edited, 'Payments-dev.template.json');
    const template = JSON.parse(fs.readFileSync(file, 'utf8')) as Template;
    const permissions = Object.entries(template.Resources).filter(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Permission' &&
        r.Properties.Principal === 'apigateway.amazonaws.com' &&
        JSON.stringify(r.Properties.SourceArn ?? '').includes('/payments/received'),
    );
    expect(permissions.length).toBeGreaterThan(0);
    for (const [id] of permissions) delete template.Resources[id];
    fs.writeFileSync(file, JSON.stringify(template));

    const { code, output } = await check({ assemblies: [edited] });
    expect(code).toBe(1);
    expect(output).toMatch(/; 1 would be refused by AWS$/m);
    expect(output).toMatch(
      /^ {2}✗ api → function: payments GET \/payments\/received → Payments-dev\/.*DENIED apigateway\.amazonaws\.com lambda:InvokeFunction/m,
    );
    expect(output).toContain('the platform Shop/dev is attached by name');
  } finally {
    fs.rmSync(edited, { recursive: true, force: true });
  }
}, 180_000);
