import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalApiGateway } from '../../local/api-gateway';
import { Enforcement } from '../../local/iam/enforcement';
import type { EmulatorEndpoint, LocalSystem } from '../../local/model';
import { provision } from '../../local/provisioner';
import { synthReferenceSystem } from '../app/synth';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';

// The runtime's IAM enforcement on the reference system's `local` assembly, provisioned into moto: what it
// allows of the system as synthesized, and what it refuses — and how — once one statement is removed.

type Statement = Record<string, unknown>;
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

let moto: Moto;
let assembly: string;
const running: Enforcement[] = [];

beforeAll(async () => {
  moto = await startMoto();
  assembly = synthReferenceSystem('local', { bundle: false }).outdir;
}, 120_000);

afterAll(async () => {
  for (const enforcement of running) await enforcement.stop();
  await moto?.stop();
  fs.rmSync(assembly, { recursive: true, force: true });
});

/** Provisions an assembly (the local one, or a copy edited by `edit`) and starts enforcement on it. */
async function enforce(
  edit?: (templates: Record<string, Template>) => void,
): Promise<{ system: LocalSystem; enforcement: Enforcement; lines: string[] }> {
  let dir = assembly;
  if (edit) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enforce-'));
    fs.cpSync(assembly, dir, { recursive: true });
    const templates: Record<string, Template> = {};
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.template.json'))) {
      templates[file.replace('.template.json', '')] = JSON.parse(
        fs.readFileSync(path.join(dir, file), 'utf8'),
      );
    }
    edit(templates);
    for (const [stack, template] of Object.entries(templates)) {
      fs.writeFileSync(path.join(dir, `${stack}.template.json`), JSON.stringify(template));
    }
  }
  const emulator: EmulatorEndpoint = {
    endpoint: moto.endpoint,
    region: 'us-east-1',
    accessKeyId: 'test',
    secretAccessKey: 'test',
  };
  const system = await provision(dir, emulator, { apiBaseUrl: 'http://127.0.0.1:1', requireAssets: false });
  const lines: string[] = [];
  const enforcement = await Enforcement.start(system, emulator, (line) => lines.push(line));
  running.push(enforcement);
  return { system, enforcement, lines };
}

const functionNamed = (system: LocalSystem, description: string) =>
  [...system.functions.values()].find((f) => f.description === description)!;

it('allows every interaction of the reference system, and only the callers granted an IAM route call it', async () => {
  const { system, enforcement, lines } = await enforce();
  expect(enforcement.denied()).toEqual([]);
  expect(lines).toEqual([]);
  for (const route of system.routes) expect(enforcement.integrationDenied(route)).toBeUndefined();
  for (const mapping of system.queueMappings) {
    expect(enforcement.mappingAllowed(mapping.queueArn, mapping.functionKey)).toBe(true);
  }
  for (const pipe of system.pipes) expect(enforcement.pipeAllowed(pipe.streamArn)).toBe(true);

  const customers = system.routes.find((r) => r.resourcePath === '/customers/{id}')!;
  const orders = functionNamed(system, 'orders: POST /orders');
  const health = functionNamed(system, 'users: GET /health');
  const asCaller = (fn: typeof orders) =>
    enforcement.signer(enforcement.credentialsOf(fn).accessKeyId)!.principal;
  expect((await enforcement.authorizeInvoke(asCaller(orders), customers, '/customers/c-1')).allowed).toBe(
    true,
  );
  const refused = await enforcement.authorizeInvoke(asCaller(health), customers, '/customers/c-1');
  expect(refused.allowed).toBe(false);
  expect(enforcement.message(refused)).toMatch(
    /^User: arn:aws:sts::\d{12}:assumed-role\/.+\/.*gethealth.* is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:\d{12}:users\/v1\/GET\/customers\/c-1 because no identity-based policy allows the execute-api:Invoke action$/,
  );
  expect(lines.at(-1)).toMatch(/DENIED .* execute-api:Invoke .* \[IAM route GET \/customers\/c-1\]$/);
}, 120_000);

it('refuses what AWS would once statements are removed: a rule target, a mapping, an API integration', async () => {
  const { system, enforcement, lines } = await enforce((templates) => {
    const inventory = templates['Shop-local-Inventory'].Resources;
    for (const [id, r] of Object.entries(inventory)) {
      // The reserve-stock queue's policy loses its statement for the rule.
      if (r.Type === 'AWS::SQS::QueuePolicy' && id.startsWith('ServicereservestockQueuePolicy')) {
        const document = r.Properties.PolicyDocument as { Statement: Statement[] };
        document.Statement = document.Statement.filter(
          (s) => !JSON.stringify(s.Principal).includes('events'),
        );
      }
      // The release-stock consumer's role loses its SQS statement.
      if (r.Type === 'AWS::IAM::Policy' && id.startsWith('ServicereleasestockConsumerRoleDefaultPolicy')) {
        const document = r.Properties.PolicyDocument as { Statement: Statement[] };
        document.Statement = document.Statement.filter((s) => !JSON.stringify(s.Action).includes('sqs:'));
      }
    }
    // The users health route's function loses API Gateway's permission.
    const users = templates['Shop-local-Users'].Resources;
    for (const [id, r] of Object.entries(users)) {
      if (
        r.Type === 'AWS::Lambda::Permission' &&
        JSON.stringify(r.Properties.SourceArn).includes('/GET/health')
      ) {
        delete users[id];
      }
    }
  });
  const denied = enforcement.denied().map((i) => i.kind);
  expect(new Set(denied)).toEqual(
    new Set(['rule → queue', 'event source mapping → queue', 'api → function']),
  );

  const [target] = enforcement.deniedRuleTargets();
  expect(target.queueArn).toMatch(/ServicereservestockQueue/);
  expect(target.ruleArn).toMatch(/:rule\//);

  const release = system.queueMappings.find((m) => m.functionKey.includes('releasestock'))!;
  const reserve = system.queueMappings.find((m) => m.functionKey.includes('reservestock'))!;
  expect(enforcement.mappingAllowed(release.queueArn, release.functionKey)).toBe(false);
  expect(enforcement.mappingAllowed(reserve.queueArn, reserve.functionKey)).toBe(true);

  const route = system.routes.find((r) => r.service === 'users' && r.resourcePath === '/health')!;
  expect(enforcement.integrationDenied(route)).toBeDefined();
  expect(lines.filter((l) => l.startsWith('DENIED')).length).toBe(enforcement.denied().length);

  // Through the gateway, the route without API Gateway's permission answers 500 as AWS does ("Invalid
  // permissions on Lambda function"), in the API's DEFAULT_5XX shape, and the function is never invoked.
  let invoked = 0;
  const gateway = new LocalApiGateway({
    routes: system.routes,
    gatewayResponses: system.gatewayResponses,
    emulator: { endpoint: moto.endpoint, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' },
    invoke: async () => {
      invoked++;
      return { statusCode: 200, body: '{}' };
    },
    iam: enforcement,
    port: 0,
    log: () => undefined,
  });
  const { url } = await gateway.start();
  try {
    const response = await fetch(`${url}/users/health`, { headers: { 'user-agent': 'test' } });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      error: { code: 'UPSTREAM_ERROR', message: 'Internal server error' },
    });
    expect(invoked).toBe(0);
  } finally {
    await gateway.stop();
  }
}, 180_000);
