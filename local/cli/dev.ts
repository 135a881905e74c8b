/**
 * `cdk-microservices dev`: the app in the current folder (and any `--with` apps) on this machine, offline — its
 * `local` environment synthesized by its own `app` command, provisioned into an AWS emulator, every API on
 * `http://127.0.0.1:{port}/{service}/...`, handlers, queues and outbox pipes running, hot reload on. Ctrl-C stops.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { endpointOf } from '../emulator';
import type { EarlySynth } from './cdk-app';
import type { LocalRuntime } from '../runtime';
import { ALARM_TYPES } from '../monitoring/local-alarms';
import { ENFORCED_TYPES, startLocalRuntime } from '../runtime';
import type { RuntimeInfo } from '../token';
import { RUNTIME_INFO_FILE } from '../token';

/** The id the printed example puts in a path parameter. */
const EXAMPLE_ID = '00000000-0000-4000-8000-000000000000';

/** Options of {@link runDev}. */
export interface DevOptions {
  /** Folder of the app. @default process.cwd() */
  readonly appDir?: string;
  /** API port. @default PORT or 3000 */
  readonly port?: number;
  /** IAM, KMS and WAF enforcement. @default - on unless CDK_MICROSERVICES_ENFORCE=off */
  readonly enforce?: boolean;
  /** Hot reload of handler and infrastructure code. @default true */
  readonly watch?: boolean;
  /** More apps run together. */
  readonly withApps?: readonly string[];
  /** Synths already under way (`startEarlySynth`). @default - none */
  readonly earlySynth?: ReadonlyMap<string, EarlySynth>;
  /** Output. @default console.log */
  readonly print?: (line: string) => void;
}

/** A running `dev`: the runtime and how to stop it (removes the file `token` reads). */
export interface DevSession {
  readonly runtime: LocalRuntime;
  stop(): Promise<void>;
}

/** Starts the runtime, writes the file `token` reads, and prints routes, demo users and how to get a token. */
export async function runDev(options: DevOptions = {}): Promise<DevSession> {
  const print = options.print ?? ((line: string) => console.log(line));
  const appDir = path.resolve(options.appDir ?? process.cwd());
  const infoFile = path.join(appDir, RUNTIME_INFO_FILE);
  const runtime: LocalRuntime = await startLocalRuntime({
    appDir,
    withApps: options.withApps,
    earlySynth: options.earlySynth,
    port: options.port ?? Number(process.env.PORT ?? 3000),
    enforce: options.enforce,
    watch: options.watch ?? true,
    log: print,
    // A reload may re-create the user pool (a changed platform): `token` must find the new one.
    onReload: (result) => {
      if (result.applied) writeRuntimeInfo(runtime, infoFile);
    },
  });
  writeRuntimeInfo(runtime, infoFile);
  for (const line of summary(runtime, appDir)) print(line);
  let stopped = false;
  return {
    runtime,
    async stop() {
      if (stopped) return;
      stopped = true;
      await runtime.stop();
      fs.rmSync(infoFile, { force: true });
    },
  };
}

/** Writes how to reach the runtime and its demo users, for `token`. */
function writeRuntimeInfo(runtime: LocalRuntime, infoFile: string): void {
  const identity = runtime.system.identity;
  if (identity) {
    const info: RuntimeInfo = {
      apiUrl: runtime.apiUrl,
      emulator: endpointOf(runtime.emulator),
      userPoolId: identity.userPoolId,
      userPoolClientId: identity.userPoolClientId,
      users: runtime.demoUsers.map((u) => ({ username: u.username, password: u.password, groups: u.groups })),
      pid: process.pid,
    };
    fs.writeFileSync(infoFile, JSON.stringify(info, null, 2));
    // Also when the process exits without stopping (a second Ctrl-C): the file would name a dead runtime.
    if (!cleanups.has(infoFile)) {
      cleanups.add(infoFile);
      process.once('exit', () => fs.rmSync(infoFile, { force: true }));
    }
  }
}

const cleanups = new Set<string>();

/** What `dev` prints once ready: routes, what is not emulated, demo users, how to get a token and try a route. */
export function summary(runtime: LocalRuntime, appDir: string): string[] {
  const lines: string[] = ['', 'Routes:'];
  const routes = [...runtime.system.routes].sort((a, b) =>
    (a.service + a.resourcePath + a.method).localeCompare(b.service + b.resourcePath + b.method),
  );
  for (const route of routes) {
    const auth =
      route.authorization.type === 'COGNITO_USER_POOLS'
        ? `token with ${route.authorization.scopes.join(' or ')}`
        : route.authorization.type === 'AWS_IAM'
          ? 'IAM (services only)'
          : 'public';
    lines.push(
      `  ${route.method.padEnd(6)} ${`${runtime.apiUrl}/${route.service}${route.resourcePath}`.padEnd(58)} ${auth}`,
    );
  }
  // With enforcement on, IAM, KMS, resource policies and web ACLs are evaluated, not ignored.
  const notEmulated = runtime.system.notEmulated.filter(
    (n) => !(runtime.enforcement && ENFORCED_TYPES.has(n.type)) && !ALARM_TYPES.has(n.type),
  );
  if (notEmulated.length > 0) {
    lines.push('', `Not emulated locally: ${notEmulated.map((n) => `${n.type} (${n.count})`).join(', ')}`);
  }
  for (const standIn of runtime.standIns) {
    lines.push(
      '',
      `Stand-in platform ${standIn.appName}/${standIn.envName} (no app here contains it): scopes ${standIn.scopes.join(', ') || 'none'}.`,
    );
  }
  if (runtime.problems.length > 0) {
    lines.push('', 'Problems:');
    for (const problem of runtime.problems) lines.push(`  ✗ ${problem}`);
  }
  if (runtime.system.identity) {
    lines.push('', 'Demo users:');
    for (const user of runtime.demoUsers) {
      lines.push(`  ${user.username} / ${user.password}  (${user.groups.join(', ')})`);
    }
    const tokenCommand = isThisRepository(appDir)
      ? 'npm run -s token -- demo@example.com'
      : 'npx cdk-microservices token demo@example.com';
    lines.push('', `Get a token:  TOKEN=$(${tokenCommand})`);
  }
  const publicGet = routes.find((r) => r.method === 'GET' && r.authorization.type === 'NONE');
  const tokenGet =
    routes.find(
      (r) =>
        r.method === 'GET' && r.authorization.type === 'COGNITO_USER_POOLS' && !r.resourcePath.includes('{'),
    ) ?? routes.find((r) => r.method === 'GET' && r.authorization.type === 'COGNITO_USER_POOLS');
  const tries = [
    ...(publicGet ? [`curl -s ${runtime.apiUrl}/${publicGet.service}${publicGet.resourcePath}`] : []),
    ...(tokenGet
      ? [
          // A UUID-shaped id passes the usual path validation: the answer is the route's own (e.g. a 404).
          `curl -s ${runtime.apiUrl}/${tokenGet.service}${tokenGet.resourcePath.replace(/\{[^}]+\}/g, EXAMPLE_ID)} -H "Authorization: Bearer $TOKEN"`,
        ]
      : []),
  ];
  tries.forEach((line, index) => lines.push(`${index === 0 ? 'Try it:       ' : '              '}${line}`));
  lines.push(
    'Editing a handler reloads it; editing what the app synthesizes from (its code, cdk.json) re-synthesizes and applies the change. Ctrl-C stops everything.',
    '',
  );
  return lines;
}

function isThisRepository(dir: string): boolean {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
    return manifest.name === 'cdk-microservices';
  } catch {
    return false;
  }
}
