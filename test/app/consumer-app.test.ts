import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addSecurityChecks } from '../../lib/stacks/shop-system';
import { buildPaymentsApp } from '../fixtures/consumer-app/app';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'consumer-app');
const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

function importsOf(file: string): string[] {
  const source = fs.readFileSync(file, 'utf8');
  return [...source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

describe('a consumer app in another repository', () => {
  it("imports this project only through the package's public entry point", () => {
    const specifiers = importsOf(path.join(FIXTURE, 'app.ts'));
    expect(specifiers).toContain(packageJson.name);
    const allowed = (s: string) =>
      s === packageJson.name || s === 'constructs' || /^aws-cdk-lib(\/|$)/.test(s) || s.startsWith('node:');
    expect(specifiers.filter((s) => !allowed(s))).toEqual([]);
  });

  it('publishes the entry point it imports: package.json points at the compiled lib/index', () => {
    expect(packageJson.name).toBe('cdk-microservices');
    expect(packageJson.main).toBe('dist/lib/index.js');
    expect(packageJson.types).toBe('dist/lib/index.d.ts');
  });

  it('defines its own service attached to the platform by name and synthesizes cleanly', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = buildPaymentsApp(app);
    addSecurityChecks(app); // the consumer's stack passes the same cdk-nag packs
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'Shop-dev-payments' });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      ProviderARNs: [{ Ref: Match.stringLikeRegexp('SsmParameterValueShopdevplatformuserpoolarn') }],
    });
    template.hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/Shop/dev/platform/user-pool-arn',
    });
    template.hasParameter('*', {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/Shop/dev/platform/namespace-id',
    });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/Shop/dev/payments/api-url' });
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
  });
});
