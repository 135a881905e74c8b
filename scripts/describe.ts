/**
 * `npm start`: synthesizes the reference system for the `local` environment (the same constructs and
 * templates that deploy) and prints what it would create: stacks, resources, API routes with their scopes,
 * and the service registry. The local runtime on an AWS emulator builds on this output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { addSecurityChecks, createShopSystem } from '../lib/stacks/shop-system';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Template = {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: string; Type?: string }>;
};

const envName = process.env.SHOP_ENV ?? 'local';
const outdir = path.join(__dirname, '..', 'cdk.out.local');
const started = Date.now();

console.log(`Synthesizing the ${envName} environment (bundling every function with local esbuild)...`);
fs.rmSync(outdir, { recursive: true, force: true });
const app = new App({ outdir, context: { ...cdkJsonContext(), env: envName } });
const config = loadEnvironmentConfig(envName);
createShopSystem(app, config);
addSecurityChecks(app);
const assembly = app.synth();
console.log(
  `Synthesized ${assembly.stacks.length} stacks in ${((Date.now() - started) / 1000).toFixed(1)} s into ${path.relative(process.cwd(), outdir)}/`,
);
console.log('cdk-nag AwsSolutions and Serverless packs: no unacknowledged findings.\n');

for (const stack of assembly.stacks) {
  const template = stack.template as Template;
  const resources = Object.values(template.Resources);
  console.log(
    `■ ${stack.stackName} — ${resources.length} resources (${path.basename(stack.templateFullPath)})`,
  );
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  for (const [type, count] of [...byType].sort()) console.log(`    ${String(count).padStart(3)}  ${type}`);

  const routes = apiRoutes(template);
  if (routes.length > 0) {
    console.log('  Routes:');
    for (const route of routes)
      console.log(`    ${route.method.padEnd(6)} ${route.path.padEnd(22)} ${route.access}`);
  }
  const rules = resources.filter((r) => r.Type === 'AWS::Events::Rule');
  if (rules.length > 0) {
    console.log('  Subscriptions (bus rule → SQS queue → consumer):');
    for (const rule of rules) {
      const pattern = rule.Properties?.EventPattern as
        { source?: string[]; 'detail-type'?: string[] } | undefined;
      console.log(
        `    ${(pattern?.['detail-type'] ?? []).join(', ')} from ${(pattern?.source ?? []).join(', ')}`,
      );
    }
  }
  for (const pipe of resources.filter((r) => r.Type === 'AWS::Pipes::Pipe')) {
    console.log(`  ${String(pipe.Properties?.Description)}`);
  }
  const written = resources
    .filter((r) => r.Type === 'AWS::SSM::Parameter')
    .map((r) => String(r.Properties?.Name));
  if (written.length > 0)
    console.log(`  Registry entries written:\n${written.map((n) => `    ${n}`).join('\n')}`);
  const read = Object.values(template.Parameters ?? {})
    .filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>' && p.Default?.startsWith('/'))
    .map((p) => p.Default)
    .filter((name) => !name!.startsWith('/cdk-bootstrap/'));
  if (read.length > 0)
    console.log(`  Registry entries read at deploy time:\n${read.map((n) => `    ${n}`).join('\n')}`);
  console.log('');
}

console.log(`Next:
  npx cdk synth -c env=dev                      review the dev templates (cdk.out/)
  npx cdk deploy -c env=dev --all               deploy Platform first, then every service
  npx cdk deploy -c env=dev Shop-dev-Users -e   redeploy one service on its own
  npm test                                      every check: static, unit, construct, cdk-nag, cfn-lint, moto`);

/** Method, full path and access of every API Gateway method in a template. */
function apiRoutes(template: Template): Array<{ method: string; path: string; access: string }> {
  const resources = template.Resources;
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string })?.Ref;
    if (!id || !resources[id] || resources[id].Type !== 'AWS::ApiGateway::Resource') return '';
    const props = resources[id].Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(props.ParentId)}/${props.PathPart}`;
  };
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::ApiGateway::Method')
    .map((r) => {
      const p = r.Properties as {
        HttpMethod: string;
        ResourceId: unknown;
        AuthorizationType: string;
        AuthorizationScopes?: unknown[];
      };
      const scopes = (p.AuthorizationScopes ?? []).map((s) => {
        const parts = (s as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
        return parts ? `{resource-server}${String(parts[parts.length - 1])}` : String(s);
      });
      return {
        method: p.HttpMethod,
        path: pathOf(p.ResourceId) || '/',
        access:
          p.AuthorizationType === 'NONE'
            ? 'public'
            : p.AuthorizationType === 'AWS_IAM'
              ? 'IAM (SigV4-signed calls from other services)'
              : `Cognito access token with scope ${scopes.join(' or ')}`,
      };
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
