/**
 * `npm run check [assembly-dir ...]`: the deploy-readiness check. Evaluates every runtime interaction of each
 * cloud assembly (default: synthesizes `dev` and `prod` of the reference system) as AWS would authorize it, and
 * exits 1 naming each interaction AWS would refuse.
 */
// This machine may run Node 20; the SDK's notice that its 2027 releases need Node 22 is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { addSecurityChecks, createShopSystem } from '../lib/stacks/shop-system';
import { checkAssembly } from '../local/iam/check';

function synthesize(envName: string): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `check-${envName}-`));
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), env: envName, 'aws:cdk:bundling-stacks': [] },
  });
  createShopSystem(app, loadEnvironmentConfig(envName));
  addSecurityChecks(app);
  app.synth();
  return outdir;
}

async function main(): Promise<number> {
  const given = process.argv.slice(2);
  const targets =
    given.length > 0
      ? given.map((dir) => ({ label: dir, dir }))
      : ['dev', 'prod'].map((env) => ({ label: env, dir: synthesize(env) }));
  let failed = 0;
  for (const { label, dir } of targets) {
    const result = await checkAssembly(dir).finally(() => {
      // The assemblies this script synthesized are its own to remove.
      if (given.length === 0) fs.rmSync(dir, { recursive: true, force: true });
    });
    const counts = new Map<string, number>();
    for (const i of result.interactions) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
    console.log(
      `${label}: ${result.interactions.length} interactions evaluated (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}); ${result.denied.length} would be refused by AWS`,
    );
    for (const line of result.report) console.log(`  ✗ ${line}`);
    if (result.denied.length > 0) failed++;
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (process.env.DEBUG ? error.stack : error.message) : String(error));
    process.exit(2);
  },
);
