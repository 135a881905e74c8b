import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { createShopSystem } from '../../lib/stacks/shop-system';
import { checkAssembly } from '../../local/iam/check';
import { synthReferenceSystem } from '../app/synth';

// The deploy-readiness check (`npm run check`): every runtime interaction of the reference system's dev and prod
// assemblies is allowed; an assembly edited by hand to lose any one statement an interaction needs — a grant, a
// key-policy, queue-policy or topic-policy statement, a Lambda permission — fails it, naming the interaction.

type Statement = Record<string, unknown> & { Principal?: unknown; Action?: unknown };
type Resource = { Type: string; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

let dev: string;

beforeAll(() => {
  dev = synthReferenceSystem('dev', { bundle: false }).outdir;
}, 120_000);

afterAll(() => {
  fs.rmSync(dev, { recursive: true, force: true });
});

/** A copy of the dev assembly with one template changed. */
function editedCopy(stack: string, edit: (template: Template) => void): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'check-edited-'));
  fs.cpSync(dev, copy, { recursive: true });
  const file = path.join(copy, `${stack}.template.json`);
  const template = JSON.parse(fs.readFileSync(file, 'utf8')) as Template;
  edit(template);
  fs.writeFileSync(file, JSON.stringify(template));
  return copy;
}

function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function principalIs(statement: Statement, service: string): boolean {
  return JSON.stringify(statement.Principal ?? '').includes(service);
}

/** Removes the statements `match` selects from a policy document; fails when it selects none. */
function removeStatements(document: { Statement: Statement[] }, match: (s: Statement) => boolean): void {
  const before = document.Statement.length;
  document.Statement = document.Statement.filter((s) => !match(s));
  expect(document.Statement.length).toBeLessThan(before);
}

async function deniedOf(assembly: string): Promise<string[]> {
  try {
    const result = await checkAssembly(assembly);
    return result.report.slice();
  } finally {
    if (assembly !== dev) fs.rmSync(assembly, { recursive: true, force: true });
  }
}

it('allows every interaction of the dev and prod assemblies', async () => {
  const result = await checkAssembly(dev);
  expect(result.report).toEqual([]);
  const kinds = new Set(result.interactions.map((i) => i.kind));
  expect([...kinds].sort()).toEqual([
    'alarm → topic',
    'api → function',
    'event source mapping → queue',
    'function → resource',
    'pipe → bus',
    'pipe → dead-letter queue',
    'pipe → stream',
    'rule → dead-letter queue',
    'rule → queue',
    'trigger → function',
  ]);
  const prod = synthReferenceSystem('prod', { bundle: false }).outdir;
  try {
    expect((await checkAssembly(prod)).report).toEqual([]);
  } finally {
    fs.rmSync(prod, { recursive: true, force: true });
  }
}, 240_000);

it('evaluates an assembly pinned to an account and region in that account and region', async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-pinned-'));
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), env: 'dev', 'aws:cdk:bundling-stacks': [] },
  });
  createShopSystem(app, loadEnvironmentConfig('dev', { account: '111111111111', region: 'eu-west-1' }));
  app.synth();
  try {
    const result = await checkAssembly(outdir);
    expect(result.report).toEqual([]);
    const routes = result.interactions.filter((i) => i.kind === 'api → function');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      expect(route.request.resource).toMatch(/^arn:aws:lambda:eu-west-1:111111111111:function:/);
      expect(route.request.context?.['aws:SourceArn']).toMatch(
        /^arn:aws:execute-api:eu-west-1:111111111111:/,
      );
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}, 120_000);

it('fails when a function loses the grant its code is declared to need', async () => {
  const edited = editedCopy('Shop-dev-Orders', (template) => {
    const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([id]) =>
      id.startsWith('ServicepostordersRoleDefaultPolicy'),
    )!;
    removeStatements(policy.Properties.PolicyDocument as { Statement: Statement[] }, (s) =>
      JSON.stringify(s.Action).includes('dynamodb:PutItem'),
    );
  });
  const denied = await deniedOf(edited);
  expect(denied.length).toBeGreaterThan(0);
  expect(
    denied.every((line) => line.startsWith('function → resource: Shop-dev-Orders/ServicepostordersFunction')),
  ).toBe(true);
  expect(denied.join('\n')).toMatch(
    /dynamodb:PutItem on arn:aws:dynamodb:.*: no statement in the policies of role/,
  );
}, 120_000);

it('fails when a queue key loses the statement letting EventBridge use it', async () => {
  const edited = editedCopy('Shop-dev-Inventory', (template) => {
    let removed = 0;
    for (const [, key] of resourcesOf(template, 'AWS::KMS::Key')) {
      const policy = key.Properties.KeyPolicy as { Statement: Statement[] };
      const before = policy.Statement.length;
      policy.Statement = policy.Statement.filter((s) => !principalIs(s, 'events.amazonaws.com'));
      removed += before - policy.Statement.length;
    }
    expect(removed).toBeGreaterThan(0);
  });
  const denied = await deniedOf(edited);
  expect(denied.length).toBeGreaterThan(0);
  expect(denied.every((line) => /^rule → (queue|dead-letter queue): Shop-dev-Inventory\//.test(line))).toBe(
    true,
  );
  expect(denied[0]).toMatch(/DENIED events\.amazonaws\.com kms:(GenerateDataKey|Decrypt) on .*key policy/);
}, 120_000);

it('fails when a queue policy loses the statement letting its rule send', async () => {
  const edited = editedCopy('Shop-dev-Orders', (template) => {
    // The stock-results queue's own policy (its dead-letter queue's policy has a statement for the rule too).
    const [, queuePolicy] = resourcesOf(template, 'AWS::SQS::QueuePolicy').find(([id]) =>
      id.startsWith('ServicestockresultsQueuePolicy'),
    )!;
    const withRule = queuePolicy.Properties.PolicyDocument as { Statement: Statement[] };
    removeStatements(withRule, (s) => principalIs(s, 'events.amazonaws.com'));
  });
  const denied = await deniedOf(edited);
  expect(denied).toHaveLength(1);
  expect(denied[0]).toMatch(
    /^rule → queue: Shop-dev-Orders\/ServicestockresultsRule.* → Shop-dev-Orders\/ServicestockresultsQueue.*: DENIED events\.amazonaws\.com sqs:SendMessage on .*: the resource policy .*AWS::SQS::QueuePolicy\) has no statement allowing events\.amazonaws\.com$/,
  );
}, 120_000);

it('fails when a route function loses the Lambda permission for API Gateway', async () => {
  const edited = editedCopy('Shop-dev-Users', (template) => {
    const [id] = resourcesOf(template, 'AWS::Lambda::Permission').find(
      ([, r]) => r.Properties.Principal === 'apigateway.amazonaws.com' && routeOf(r, 'health'),
    )!;
    delete template.Resources[id];
  });
  const denied = await deniedOf(edited);
  expect(denied).toHaveLength(1);
  expect(denied[0]).toMatch(/^api → function: users GET \/health → Shop-dev-Users\/ServicegethealthFunction/);
  expect(denied[0]).toMatch(
    /DENIED apigateway\.amazonaws\.com lambda:InvokeFunction .* has no resource policy allowing apigateway\.amazonaws\.com$/,
  );
}, 120_000);

it('fails when the alarm topic loses the statement letting CloudWatch publish', async () => {
  const edited = editedCopy('Shop-dev-Platform', (template) => {
    const [, policy] = resourcesOf(template, 'AWS::SNS::TopicPolicy')[0];
    removeStatements(policy.Properties.PolicyDocument as { Statement: Statement[] }, (s) =>
      principalIs(s, 'cloudwatch.amazonaws.com'),
    );
  });
  const denied = await deniedOf(edited);
  expect(denied.length).toBeGreaterThan(0);
  expect(
    denied.every((line) => /^alarm → topic: .* → Shop-dev-Platform\/PlatformAlarmTopic/.test(line)),
  ).toBe(true);
}, 120_000);

it('exits 1 from the command line naming the refused interaction, 0 on the assembly as synthesized', async () => {
  const run = promisify(execFile);
  const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  const cli = path.join(__dirname, '..', '..', 'local', 'cli', 'index.ts');
  const clean = await run(tsx, [cli, 'check', dev]);
  expect(clean.stdout).toMatch(/: \d+ interactions evaluated .*; 0 would be refused by AWS/);

  const edited = editedCopy('Shop-dev-Platform', (template) => {
    const [id] = resourcesOf(template, 'AWS::Lambda::Permission').find(
      ([, r]) => r.Properties.Principal === 'cognito-idp.amazonaws.com',
    )!;
    delete template.Resources[id];
  });
  try {
    await expect(run(tsx, [cli, 'check', edited])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringMatching(
        /1 would be refused by AWS\n\s+✗ trigger → function: Shop-dev-Platform\/.* DENIED cognito-idp\.amazonaws\.com lambda:InvokeFunction/,
      ),
    });
  } finally {
    fs.rmSync(edited, { recursive: true, force: true });
  }
}, 180_000);

/** Whether a Lambda permission's logical resource concerns a route of this path word (from its source ARN). */
function routeOf(resource: Resource, word: string): boolean {
  return JSON.stringify(resource.Properties.SourceArn ?? '').includes(`/${word}`);
}
