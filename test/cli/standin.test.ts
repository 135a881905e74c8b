import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AssemblyFacts } from '../../local/standin/assembly-facts';
import { assemblyFacts, provisioningOrder } from '../../local/standin/assembly-facts';
import { synthesizeStandInPlatform } from '../../local/standin/platform';

// The stand-in platform `dev` provisions for a platform attached by name, and what the runtime reads from an
// assembly to decide it: platform references, route scopes, registry entries written and read.

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

function writeAssembly(stacks: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facts-'));
  const artifacts: Record<string, unknown> = {};
  for (const [name, template] of Object.entries(stacks)) {
    fs.writeFileSync(path.join(dir, `${name}.template.json`), JSON.stringify(template));
    artifacts[name] = {
      type: 'aws:cloudformation:stack',
      properties: { templateFile: `${name}.template.json` },
    };
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ version: '1', artifacts }));
  return dir;
}

/** A service stack attached to Shop/local by name with one route requiring `scope`. */
const serviceStack = (scope: string, reads: string[] = []) => ({
  Parameters: {
    RsId: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/Shop/local/platform/resource-server-id' },
    ...Object.fromEntries(
      reads.map((name, i) => [`Read${i}`, { Type: 'AWS::SSM::Parameter::Value<String>', Default: name }]),
    ),
  },
  Resources: {
    Payments: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'payments' },
    },
    Post: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'POST',
        ResourceId: { Ref: 'Payments' },
        AuthorizationScopes: [{ 'Fn::Join': ['', [{ Ref: 'RsId' }, `/${scope}`]] }],
      },
    },
    Url: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/Shop/local/payments/api-url', Value: 'x' } },
  },
});

describe('assembly facts', () => {
  it('finds the platform attached by name and the scope each route requires from it', () => {
    const facts = assemblyFacts(writeAssembly({ 'Payments-local': serviceStack('payments.write') }));
    expect(facts.references).toEqual([{ appName: 'Shop', envName: 'local' }]);
    expect(facts.platforms).toEqual([]);
    expect(facts.routeScopes).toEqual([
      {
        stackName: 'Payments-local',
        route: 'POST /payments',
        scope: 'payments.write',
        platform: { appName: 'Shop', envName: 'local' },
      },
    ]);
    expect([...facts.writes]).toEqual(['/Shop/local/payments/api-url']);
  });

  it('orders assemblies so that one writing registry entries comes before the one reading them', () => {
    const reader = {
      dir: 'reader',
      reads: new Set(['/Shop/local/payments/api-url']),
      writes: new Set<string>(),
    };
    const writer = {
      dir: 'writer',
      reads: new Set<string>(),
      writes: new Set(['/Shop/local/payments/api-url']),
    };
    const other = { dir: 'other', reads: new Set<string>(), writes: new Set<string>() };
    const ordered = provisioningOrder([reader, other, writer] as unknown as AssemblyFacts[]);
    expect(ordered.map((a) => a.dir)).toEqual(['writer', 'reader', 'other']);
  });
});

describe('the stand-in platform', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-'));
  });
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('declares the scopes the routes use, gives *.admin ones to the admins group and the rest to every user, and reports a scope no platform can declare', () => {
    const route = (scope: string) => ({ stackName: 'Payments-local', route: 'POST /payments', scope });
    const standIn = synthesizeStandInPlatform(
      { appName: 'Shop', envName: 'local' },
      [route('payments.write'), route('payments.admin'), route('payments.read'), route('bad scope')],
      outdir,
      { 'aws:cdk:bundling-stacks': [] },
    );
    expect(standIn.scopes).toEqual(['payments.admin', 'payments.read', 'payments.write']);
    expect(standIn.defaultScopes).toEqual(['payments.read', 'payments.write']);
    expect(standIn.groups).toEqual([
      { name: 'admins', scopes: ['payments.admin'] },
      { name: 'customers', scopes: [] },
    ]);
    expect(standIn.problems).toEqual([
      expect.stringMatching(
        /^Payments-local: POST \/payments requires the scope "bad scope", which no platform can declare/,
      ),
    ]);

    const template = JSON.parse(
      fs.readFileSync(path.join(outdir, 'Shop-local-Platform.template.json'), 'utf8'),
    ) as Template;
    const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
    expect(ofType('AWS::Cognito::UserPoolResourceServer')[0].Properties?.Scopes).toEqual([
      { ScopeName: 'payments.admin', ScopeDescription: expect.any(String) },
      { ScopeName: 'payments.read', ScopeDescription: expect.any(String) },
      { ScopeName: 'payments.write', ScopeDescription: expect.any(String) },
    ]);
    expect(ofType('AWS::Cognito::UserPoolGroup').map((g) => g.Properties?.GroupName)).toEqual([
      'admins',
      'customers',
    ]);
    expect(ofType('AWS::Cognito::UserPoolClient')[0].Properties?.ExplicitAuthFlows).toContain(
      'ALLOW_USER_PASSWORD_AUTH',
    );
    const names = ofType('AWS::SSM::Parameter').map((p) => p.Properties?.Name);
    expect(names).toEqual(
      expect.arrayContaining(['/Shop/local/platform/user-pool-arn', '/Shop/local/platform/event-bus-arn']),
    );
    expect(assemblyFacts(outdir).platforms).toEqual([
      { appName: 'Shop', envName: 'local', scopes: ['payments.admin', 'payments.read', 'payments.write'] },
    ]);
  });
});
