/**
 * `cdk-microservices check [--env <name>]... [<assembly-dir>...]`: the deploy-readiness check. Evaluates every
 * runtime interaction of each cloud assembly (default: the app in the current folder synthesized for `dev` and
 * `prod`) as AWS would authorize it, and names each interaction AWS would refuse. An assembly that attaches to a
 * platform by name and contains none is checked on top of the stand-in platform `dev` provisions for it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkAssembly } from '../iam/check';
import { assemblyFacts, platformKey } from '../standin/assembly-facts';
import { synthesizeStandIns } from '../standin/stand-ins';
import type { CdkAppConfig } from './cdk-app';
import { readCdkApp, synthesizeApp } from './cdk-app';

/** Options of {@link runCheck}. */
export interface CheckCommandOptions {
  /** Assemblies to check; none: synthesize the app for each of `envs`. */
  readonly assemblies?: readonly string[];
  /** Environments to synthesize the app for. @default ['dev', 'prod'] */
  readonly envs?: readonly string[];
  /** Folder of the app. @default process.cwd() */
  readonly appDir?: string;
  readonly print?: (line: string) => void;
}

/** Runs the check; resolves to the exit code (0: nothing refused, 1: something AWS would refuse). */
export async function runCheck(options: CheckCommandOptions = {}): Promise<number> {
  const print = options.print ?? ((line: string) => console.log(line));
  const given = options.assemblies ?? [];
  const targets: { label: string; dir: string; own: boolean }[] = given.map((dir) => ({
    label: dir,
    dir,
    own: false,
  }));
  let app: CdkAppConfig | undefined;
  if (targets.length === 0) {
    app = readCdkApp(options.appDir ?? process.cwd());
    for (const env of options.envs?.length ? options.envs : ['dev', 'prod']) {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `check-${env}-`));
      // Functions are not bundled: the check runs none of them.
      await synthesizeApp(app, { outdir, context: { env, 'aws:cdk:bundling-stacks': [] } });
      targets.push({ label: env, dir: outdir, own: true });
    }
  }
  let failed = 0;
  for (const { label, dir, own } of targets) {
    const standInsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-standin-'));
    try {
      // The stand-in's own function is not bundled either.
      const standIns = await synthesizeStandIns([assemblyFacts(dir)], standInsDir, {
        ...app?.context,
        'aws:cdk:bundling-stacks': [],
      });
      const result = await checkAssembly(dir, { platformAssemblies: standIns.map((s) => s.assemblyDir) });
      const counts = new Map<string, number>();
      for (const i of result.interactions) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
      print(
        `${label}: ${result.interactions.length} interactions evaluated (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}); ${result.denied.length} would be refused by AWS`,
      );
      for (const line of result.report) print(`  ✗ ${line}`);
      const platformNotes = [...platformScopeNotes(dir), ...standIns.flatMap((s) => s.problems)];
      for (const line of platformNotes) print(`  ! ${line}`);
      if (result.denied.length > 0) failed++;
    } finally {
      fs.rmSync(standInsDir, { recursive: true, force: true });
      // The assemblies this command synthesized are its own to remove.
      if (own) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return failed > 0 ? 1 : 0;
}

/**
 * Route scopes that depend on a platform attached by name: the check cannot see that platform's resource server,
 * so it lists the scopes it must declare; scopes of a platform in the same assembly that it does not declare are
 * reported as problems.
 */
export function platformScopeNotes(assemblyDir: string): string[] {
  const facts = assemblyFacts(assemblyDir);
  const notes: string[] = [];
  const byPlatform = new Map<string, Set<string>>();
  for (const route of facts.routeScopes) {
    if (!route.platform) continue;
    const key = platformKey(route.platform);
    const provided = facts.platforms.find((p) => platformKey(p) === key);
    if (provided) {
      if (!provided.scopes.includes(route.scope)) {
        notes.push(
          `${route.stackName}: ${route.route} requires the scope "${route.scope}", which the platform ${key} does not declare`,
        );
      }
      continue;
    }
    if (!byPlatform.has(key)) byPlatform.set(key, new Set());
    byPlatform.get(key)!.add(route.scope);
  }
  for (const [key, scopes] of byPlatform) {
    notes.push(
      `the platform ${key} is attached by name: it must declare the scopes ${[...scopes].sort().join(', ')} (not checked here; \`check\` and \`dev\` provision a stand-in with them)`,
    );
  }
  return notes;
}
