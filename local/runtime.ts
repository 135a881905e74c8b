import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { addSecurityChecks, createShopSystem } from '../lib/stacks/shop-system';
import { LocalApiGateway } from './api-gateway';
import type { Emulator } from './emulator';
import { callAwsJson, startEmulator } from './emulator';
import { FunctionRunner } from './function-runner';
import type { LocalSystem } from './model';
import { OutboxPipe } from './outbox-pipe';
import { Enforcement, ENFORCE_VARIABLE, enforcementFromEnvironment } from './iam/enforcement';
import { provision } from './provisioner';
import { QueuePoller } from './queue-poller';
import { WebAclGuard } from './waf';

/** A demo account created in the emulator's user pool. */
export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly groups: readonly string[];
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'demo@example.com', password: 'Demo-Passw0rd!', groups: ['customers'] },
  { username: 'admin@example.com', password: 'Admin-Passw0rd!', groups: ['admins'] },
];

export interface LocalRuntimeOptions {
  /** API port (0 = a free port). @default 3000 */
  readonly port?: number;
  /** Where the `local` cloud assembly is synthesized. @default cdk.out.local */
  readonly assemblyDir?: string;
  /** Progress and log lines. @default console.log */
  readonly log?: (line: string) => void;
  /** Whether queue pollers and outbox pipes run continuously. @default true */
  readonly drive?: boolean;
  /**
   * Whether what AWS enforces is enforced: IAM (each function's calls against its role, the target's resource
   * policy and the KMS key policy; service principals; SigV4 callers of IAM routes) and the web ACLs.
   * @default - on, unless the environment variable CDK_MICROSERVICES_ENFORCE is `off`
   */
  readonly enforce?: boolean;
}

/** The running system: where it listens and how to stop it. */
export interface LocalRuntime {
  readonly apiUrl: string;
  readonly emulator: Emulator;
  readonly system: LocalSystem;
  readonly runner: FunctionRunner;
  readonly pollers: QueuePoller;
  readonly pipes: readonly OutboxPipe[];
  readonly demoUsers: readonly DemoUser[];
  /** IAM enforcement (undefined when off). */
  readonly enforcement?: Enforcement;
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, '..');
/** Types the runtime does not create but evaluates when enforcement is on (IAM, KMS, resource policies, WAF). */
export const ENFORCED_TYPES: ReadonlySet<string> = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::RolePolicy',
  'AWS::KMS::Key',
  'AWS::SQS::QueuePolicy',
  'AWS::SQS::QueueInlinePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::TopicInlinePolicy',
  'AWS::Lambda::Permission',
  'AWS::Events::EventBusPolicy',
  'AWS::WAFv2::WebACL',
  'AWS::WAFv2::WebACLAssociation',
]);

/** Synthesizes the `local` environment exactly as `cdk synth -c env=local` would (cdk-nag included). */
export function synthesizeLocal(outdir: string): void {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir, context: { ...cdkJsonContext(), env: 'local' } });
  createShopSystem(app, loadEnvironmentConfig('local'));
  addSecurityChecks(app);
  app.synth();
}

/**
 * Brings the reference system up on one machine: synthesizes `local`, starts (or attaches to) the AWS
 * emulator, provisions everything from the synthesized templates, serves every API on one port, runs the
 * bundled handlers with their template environment, and drives queues and outbox pipes.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = options.log ?? ((line: string) => console.log(line));
  const assemblyDir = options.assemblyDir ?? path.join(ROOT, 'cdk.out.local');
  const started = Date.now();
  const step = (label: string) => log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${label}`);

  step('Synthesizing the local environment (bundling every function with esbuild)...');
  synthesizeLocal(assemblyDir);
  step('Starting the AWS emulator...');
  const emulator = await startEmulator();
  const stopAll: Array<() => Promise<void>> = [() => emulator.stop()];
  try {
    step(
      `Emulator at ${emulator.endpoint}${emulator.external ? ' (from AWS_ENDPOINT_URL)' : ' (moto_server)'}; provisioning from the templates...`,
    );
    for (const notice of emulator.notices) step(`Note: ${notice}`);
    const port = options.port ?? Number(process.env.PORT ?? 3000);
    // The API base URL must be known before provisioning (registry entries point at it); a free port is
    // reserved first when port 0 is asked for.
    const apiPort = port === 0 ? await freePort() : port;
    const apiBaseUrl = `http://127.0.0.1:${apiPort}`;
    const enforce = options.enforce ?? enforcementFromEnvironment();
    const system = await provision(assemblyDir, emulator, {
      apiBaseUrl,
      log: (line) => step(line),
      ...(enforce ? { enforcedTypes: ENFORCED_TYPES } : {}),
    });

    let enforcement: Enforcement | undefined;
    if (enforce) {
      enforcement = await Enforcement.start(system, emulator, (line) => log(`  [iam] ${line}`));
      stopAll.unshift(() => enforcement!.stop());
      await removeDeniedRuleTargets(emulator, system, enforcement);
      const denied = enforcement.denied().length;
      step(
        `IAM enforced: ${system.functions.size} functions call AWS through an authorizing proxy; ` +
          `${enforcement.interactions.length} service interactions evaluated, ${denied} denied`,
      );
    } else {
      step(
        `Enforcement is OFF (--no-enforce or ${ENFORCE_VARIABLE}=off): IAM, KMS and WAF are not evaluated`,
      );
    }

    const runner = new FunctionRunner(system.functions, emulator, {
      log: (fn, line) => log(`  ${fn.description.padEnd(34).slice(0, 34)} | ${line}`),
      ...(enforcement
        ? { aws: (fn) => ({ endpoint: enforcement.endpoint, ...enforcement.credentialsOf(fn) }) }
        : {}),
    });
    stopAll.unshift(() => runner.close());
    const invoke = (key: string, event: unknown) => runner.invoke(key, event);

    const mappings = system.queueMappings.filter(
      (m) => !enforcement || enforcement.mappingAllowed(m.queueArn, m.functionKey),
    );
    const pollers = new QueuePoller(mappings, emulator, invoke, {
      log: (line) => log(`  [sqs] ${line}`),
    });
    const pipes = system.pipes
      .filter((pipe) => !enforcement || enforcement.pipeAllowed(pipe.streamArn))
      .map((pipe) => new OutboxPipe(pipe, emulator, { log: (line: string) => log(`  [pipe] ${line}`) }));
    stopAll.unshift(() => pollers.stop(), ...pipes.map((p) => () => p.stop()));

    // The web ACLs associated with the API stages, evaluated by the gateway (none when enforcement is off).
    const waf = enforce ? WebAclGuard.fromResources(system.resources) : undefined;
    for (const line of waf?.describe() ?? []) log(`  [waf] ${line}`);

    const identity = system.identity;
    const gateway = new LocalApiGateway({
      routes: system.routes,
      gatewayResponses: system.gatewayResponses,
      identity,
      emulator,
      invoke,
      port: apiPort,
      extraScopes: identity?.preTokenGenerationFunctionKey
        ? (claims) => {
            const trigger = system.functions.get(identity.preTokenGenerationFunctionKey!);
            const denied = trigger && enforcement?.triggerDeniedFor(trigger);
            if (denied) {
              // Cognito fails the sign-in when it cannot invoke a trigger; the token is refused here.
              return Promise.reject(
                new Error(`Cognito cannot invoke the pre-token-generation trigger: ${denied.reason}`),
              );
            }
            return scopesFromTrigger(invoke, identity.preTokenGenerationFunctionKey!, claims, (username) =>
              groupsOf(emulator, identity.userPoolId, username),
            );
          }
        : undefined,
      ...(enforcement ? { iam: enforcement } : {}),
      ...(waf ? { waf } : {}),
      log: (line) => log(`  [api] ${line}`),
    });
    await gateway.start();
    stopAll.unshift(() => gateway.stop());

    if (identity) await createDemoUsers(emulator, identity.userPoolId);
    if (options.drive ?? true) {
      pollers.start();
      for (const pipe of pipes) pipe.start();
    }
    step(`Ready: ${system.routes.length} routes on ${apiBaseUrl}`);

    let stopped = false;
    return {
      apiUrl: apiBaseUrl,
      emulator,
      system,
      runner,
      pollers,
      pipes,
      demoUsers: DEMO_USERS,
      enforcement,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const stop of stopAll)
          await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
      },
    };
  } catch (error) {
    for (const stop of stopAll) await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * The emulator does not run Cognito triggers, so the runtime runs the platform's real pre-token-generation
 * function (the bundled asset) with the user's groups and adds the scopes it grants, as Cognito would.
 */
async function scopesFromTrigger(
  invoke: (key: string, event: unknown) => Promise<unknown>,
  functionKey: string,
  claims: Record<string, unknown>,
  lookupGroups: (username: string) => Promise<string[]>,
): Promise<string[]> {
  const rawGroups = claims['cognito:groups'];
  const groups = Array.isArray(rawGroups)
    ? rawGroups.map(String)
    : typeof rawGroups === 'string'
      ? rawGroups
          .replace(/^\[|\]$/g, '')
          .split(/[\s,]+/)
          .filter(Boolean)
      : await lookupGroups(String(claims.username ?? claims.sub));
  const result = (await invoke(functionKey, {
    version: '2',
    triggerSource: 'TokenGeneration_Authentication',
    region: 'local',
    userName: String(claims.username ?? claims.sub),
    request: {
      userAttributes: {},
      groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [] },
      scopes: [],
    },
    response: {},
  })) as {
    response?: { claimsAndScopeOverrideDetails?: { accessTokenGeneration?: { scopesToAdd?: string[] } } };
  };
  return result.response?.claimsAndScopeOverrideDetails?.accessTokenGeneration?.scopesToAdd ?? [];
}

/** Removes the targets of rules that AWS would fail to deliver to (queue or key policy without a statement). */
async function removeDeniedRuleTargets(
  emulator: Emulator,
  system: LocalSystem,
  enforcement: Enforcement,
): Promise<void> {
  for (const { ruleArn, queueArn } of enforcement.deniedRuleTargets()) {
    const [, busName, ruleName] = /:rule\/(?:([^/]+)\/)?([^/]+)$/.exec(ruleArn) ?? [];
    const rule = system.resources.find((r) => r.type === 'AWS::Events::Rule' && r.attributes.Arn === ruleArn);
    const ids = ((rule?.properties.Targets ?? []) as { Id?: string; Arn?: string }[])
      .filter((t) => t.Arn === queueArn && t.Id)
      .map((t) => t.Id!);
    if (!ruleName || ids.length === 0) continue;
    await callAwsJson(emulator, 'events', 'RemoveTargets', {
      Rule: ruleName,
      ...(busName ? { EventBusName: busName } : {}),
      Ids: ids,
    });
  }
}

/** The user's groups, from the emulator (for tokens that do not carry the cognito:groups claim). */
async function groupsOf(emulator: Emulator, userPoolId: string, username: string): Promise<string[]> {
  const cognito = new CognitoIdentityProviderClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
  });
  try {
    const { Groups = [] } = await cognito.send(
      new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }),
    );
    return Groups.map((g) => String(g.GroupName));
  } finally {
    cognito.destroy();
  }
}

async function createDemoUsers(emulator: Emulator, userPoolId: string): Promise<void> {
  const cognito = new CognitoIdentityProviderClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
  });
  try {
    for (const user of DEMO_USERS) {
      await cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: user.username,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: user.username },
            { Name: 'email_verified', Value: 'true' },
          ],
        }),
      );
      await cognito.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: userPoolId,
          Username: user.username,
          Password: user.password,
          Permanent: true,
        }),
      );
      for (const group of user.groups) {
        await cognito.send(
          new AdminAddUserToGroupCommand({
            UserPoolId: userPoolId,
            Username: user.username,
            GroupName: group,
          }),
        );
      }
    }
  } finally {
    cognito.destroy();
  }
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
