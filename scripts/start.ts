/**
 * `npm start`: the whole reference system on this machine, with no AWS account — the `local` environment's
 * templates provisioned into an AWS emulator (moto_server, or the one AWS_ENDPOINT_URL names), every API on
 * http://127.0.0.1:3000/{service}/..., the bundled handlers running with their template environment, and the
 * queues and outbox pipes driven in the background. Ctrl-C stops everything.
 */
import * as fs from 'node:fs';
// This machine may run Node 20; the SDK's notice that its 2027 releases need Node 22 is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import * as path from 'node:path';
import { endpointOf } from '../local/emulator';
import { ENFORCED_TYPES, startLocalRuntime } from '../local/runtime';
import type { RuntimeInfo } from '../local/token';
import { RUNTIME_INFO_FILE } from '../local/token';

let shutdown: ((signal: string) => Promise<void>) | undefined;
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    // During start-up, or on a second Ctrl-C while stopping: exit now (the emulator is killed on exit).
    if (!shutdown || signals > 1) {
      console.log(`\n${signal}: exiting now.`);
      process.exit(130);
    }
    void shutdown(signal);
  });
}

async function main(): Promise<void> {
  // --no-enforce: IAM, KMS and WAF are not evaluated (the runtime says so at start-up).
  const enforce = process.argv.includes('--no-enforce') ? false : undefined;
  const runtime = await startLocalRuntime({ port: Number(process.env.PORT ?? 3000), enforce });
  const infoFile = path.join(__dirname, '..', RUNTIME_INFO_FILE);
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
  }

  console.log('\nRoutes:');
  for (const route of [...runtime.system.routes].sort((a, b) =>
    (a.service + a.resourcePath).localeCompare(b.service + b.resourcePath),
  )) {
    const auth =
      route.authorization.type === 'COGNITO_USER_POOLS'
        ? `token with ${route.authorization.scopes.join(' or ')}`
        : route.authorization.type === 'AWS_IAM'
          ? 'IAM (services only)'
          : 'public';
    console.log(
      `  ${route.method.padEnd(6)} ${`${runtime.apiUrl}/${route.service}${route.resourcePath}`.padEnd(58)} ${auth}`,
    );
  }
  // With enforcement on, IAM, KMS, resource policies and web ACLs are evaluated, not ignored.
  const notEmulated = runtime.system.notEmulated.filter(
    (n) => !(runtime.enforcement && ENFORCED_TYPES.has(n.type)),
  );
  if (notEmulated.length > 0) {
    console.log(`\nNot emulated locally: ${notEmulated.map((n) => `${n.type} (${n.count})`).join(', ')}`);
  }

  console.log('\nDemo users:');
  for (const user of runtime.demoUsers)
    console.log(`  ${user.username} / ${user.password}  (${user.groups.join(', ')})`);
  console.log(`\nGet a token:  TOKEN=$(npm run -s token -- demo@example.com)
Try it:       curl -s ${runtime.apiUrl}/users/health
              curl -s -X POST ${runtime.apiUrl}/users/profiles -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"email":"demo@example.com","displayName":"Demo"}'
The README's "Run it locally" section walks through placing an order. Ctrl-C stops everything.\n`);

  shutdown = async (signal: string) => {
    console.log(
      `\n${signal}: stopping the API, pollers, functions and the emulator (Ctrl-C again to exit at once)...`,
    );
    await runtime.stop();
    fs.rmSync(infoFile, { force: true });
    console.log('Stopped.');
    process.exit(0);
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
