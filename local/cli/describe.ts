/**
 * `cdk-microservices describe [--env <name>]`: synthesizes the app in the current folder (default environment
 * `local`) with its own `app` command and prints what it would create: stacks, resources by type, API routes with
 * their access, subscriptions, pipes, and the registry entries each stack writes and reads.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCdkApp, synthesizeApp } from './cdk-app';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Template = {
  Resources: Record<string, Resource>;
  Parameters?: Record<string, { Default?: string; Type?: string }>;
};

/** Options of {@link runDescribe}. */
export interface DescribeOptions {
  /** Environment (`env` context). @default 'local' */
  readonly env?: string;
  /** Folder of the app. @default process.cwd() */
  readonly appDir?: string;
  readonly print?: (line: string) => void;
}

/** Synthesizes the app and prints its description. */
export async function runDescribe(options: DescribeOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const env = options.env ?? 'local';
  const app = readCdkApp(options.appDir ?? process.cwd());
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `describe-${env}-`));
  const started = Date.now();
  print(`Synthesizing the ${env} environment of ${path.basename(app.dir)} ("${app.app}")...`);
  try {
    // Nothing is run: the functions are not bundled.
    await synthesizeApp(app, { outdir, context: { env, 'aws:cdk:bundling-stacks': [] } });
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
    };
    const stacks = Object.entries(manifest.artifacts ?? {}).filter(
      ([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile,
    );
    print(`Synthesized ${stacks.length} stacks in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    for (const [name, artifact] of stacks) {
      const template = JSON.parse(
        fs.readFileSync(path.join(outdir, artifact.properties!.templateFile!), 'utf8'),
      ) as Template;
      for (const line of describeStack(name, template)) print(line);
    }
    print(`Next:
  npx cdk synth -c env=dev                      review the dev templates (cdk.out/)
  npx cdk deploy -c env=dev --all               deploy (the platform first, then every service)
  npx cdk-microservices dev                     run it offline
  npx cdk-microservices check                   what AWS would refuse, without an account`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The lines describing one stack. */
export function describeStack(name: string, template: Template): string[] {
  const lines: string[] = [];
  const resources = Object.values(template.Resources ?? {});
  lines.push(`■ ${name} — ${resources.length} resources`);
  const byType = new Map<string, number>();
  for (const r of resources) byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  for (const [type, count] of [...byType].sort()) lines.push(`    ${String(count).padStart(3)}  ${type}`);
  const routes = apiRoutes(template);
  if (routes.length > 0) {
    lines.push('  Routes:');
    for (const route of routes)
      lines.push(`    ${route.method.padEnd(6)} ${route.path.padEnd(22)} ${route.access}`);
  }
  const rules = resources.filter((r) => r.Type === 'AWS::Events::Rule');
  if (rules.length > 0) {
    lines.push('  Subscriptions (bus rule → SQS queue → consumer):');
    for (const rule of rules) {
      const pattern = rule.Properties?.EventPattern as
        { source?: string[]; 'detail-type'?: string[] } | undefined;
      lines.push(
        `    ${(pattern?.['detail-type'] ?? []).join(', ')} from ${(pattern?.source ?? []).join(', ')}`,
      );
    }
  }
  for (const pipe of resources.filter((r) => r.Type === 'AWS::Pipes::Pipe')) {
    lines.push(`  ${String(pipe.Properties?.Description)}`);
  }
  const written = resources
    .filter((r) => r.Type === 'AWS::SSM::Parameter')
    .map((r) => String(r.Properties?.Name));
  if (written.length > 0)
    lines.push(`  Registry entries written:\n${written.map((n) => `    ${n}`).join('\n')}`);
  const read = Object.values(template.Parameters ?? {})
    .filter((p) => p.Type === 'AWS::SSM::Parameter::Value<String>' && p.Default?.startsWith('/'))
    .map((p) => p.Default!)
    .filter((n) => !n.startsWith('/cdk-bootstrap/'));
  if (read.length > 0)
    lines.push(`  Registry entries read at deploy time:\n${read.map((n) => `    ${n}`).join('\n')}`);
  lines.push('');
  return lines;
}

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
