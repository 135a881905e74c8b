import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminListGroupsForUserCommand,
  AdminSetUserPasswordCommand,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { EmulatorClients } from './aws-clients';
import { LocalApiGateway } from './api-gateway';
import type { CdkAppConfig } from './cli/cdk-app';
import {
  loadedFiles,
  LOCAL_SYNTH_CONTEXT,
  OWN_ASSEMBLY,
  privateAssemblyDir,
  readCdkApp,
  synthesizeApp,
} from './cli/cdk-app';
import type { EarlySynth } from './cli/cdk-app';
import type { Emulator } from './emulator';
import { startEmulator } from './emulator';
import { FunctionRunner } from './function-runner';
import type { EmulatorEndpoint, LocalSystem } from './model';
import { OutboxPipe } from './outbox-pipe';
import { AppConfigDataStandIn } from './appconfig-data';
import { Enforcement, ENFORCE_VARIABLE, enforcementFromEnvironment } from './iam/enforcement';
import { ALARM_TYPES, LocalAlarms } from './monitoring/local-alarms';
import { SIMULATOR_PACKAGE, simulatorInstalled } from './iam/simulator';
import { provision } from './provisioner';
import { systemChanges } from './provisioner/changes';
import { QueuePoller } from './queue-poller';
import type { AssemblyFacts } from './standin/assembly-facts';
import { assemblyFacts, platformKey, provisioningOrder } from './standin/assembly-facts';
import type { StandInPlatform } from './standin/platform';
import { synthesizeStandIns } from './standin/stand-ins';
import { WebAclGuard } from './waf';
import { freePort } from './util';

/** A demo account created in the emulator's user pool. */
export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly groups: readonly string[];
}

/** The demo accounts `dev` creates in the user pool (in each group the pool has). */
export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'demo@example.com', password: 'Demo-Passw0rd!', groups: ['customers'] },
  { username: 'admin@example.com', password: 'Admin-Passw0rd!', groups: ['admins'] },
];

/** Options of {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /**
   * Folder of the CDK app to run (holds `cdk.json`).
   * @default process.cwd()
   */
  readonly appDir?: string;
  /**
   * Folders of more CDK apps run together with it in one emulator behind one gateway (`dev --with`), e.g. a
   * checkout of the reference system next to a team's service.
   * @default - none
   */
  readonly withApps?: readonly string[];
  /**
   * Where the app's `local` cloud assembly is synthesized.
   * @default - a folder of this runtime's own under `{appDir}/cdk.out.local/` (each `withApps` app's likewise under
   * its own folder), removed when the runtime stops: several runtimes may run the same app at once
   */
  readonly assemblyDir?: string;
  /**
   * Context the apps are synthesized with, over their `cdk.json` context.
   * @default { env: 'local' }
   */
  readonly context?: Readonly<Record<string, unknown>>;
  /** API port (0 = a free port). @default 3000 */
  readonly port?: number;
  /** Progress and log lines. @default console.log */
  readonly log?: (line: string) => void;
  /** Whether queue pollers and outbox pipes run continuously. @default true */
  readonly drive?: boolean;
  /**
   * Whether what AWS enforces is enforced: IAM (each function's calls against its role, the target's resource
   * policy and the KMS key policy; service principals; SigV4 callers of IAM routes) and the web ACLs. IAM needs
   * the optional peer `@cloud-copilot/iam-simulate`: `true` without it fails with what to install, while the
   * default leaves IAM out with a notice.
   * @default - on, unless the environment variable CDK_MICROSERVICES_ENFORCE is `off`
   */
  readonly enforce?: boolean;
  /**
   * Hot reload: handler code (the function runner's watch) and infrastructure code (re-synthesized and applied,
   * table data kept): the source files the app's synth loaded (a module imported by `lib/` and by handlers alike
   * reloads both), `cdk.json` and `cdk.context.json`; the apps' `bin/` and `lib/` folders when the synth could
   * not list what it loaded (an ES module app).
   * @default false
   */
  readonly watch?: boolean;
  /**
   * Called after each infrastructure reload (applied or not), e.g. to print or to rewrite what clients read.
   * @default - nothing
   */
  readonly onReload?: (result: ReloadResult) => void;
  /**
   * Synths already under way (see `startEarlySynth`), by app folder: the CLI starts them before it loads the
   * runtime's modules. Only used with the default context and assembly folders.
   * @default - the runtime starts every synth
   */
  readonly earlySynth?: ReadonlyMap<string, EarlySynth>;
}

/** An app the runtime runs. */
export interface LocalApp {
  /** Folder of the app (holds cdk.json). */
  readonly dir: string;
  /** Where its `local` cloud assembly is. */
  readonly assemblyDir: string;
  /** Its stacks. */
  readonly stacks: readonly string[];
}

/** What an infrastructure reload changed. */
export interface ReloadResult {
  /** Whether the new assemblies are served (false: synth or provisioning failed, the previous system is served). */
  readonly applied: boolean;
  /** One line per change (`+ route POST /payments/refunds`, `- queue ...`); empty when nothing changed. */
  readonly changes: readonly string[];
  readonly seconds: number;
}

/** The running system: where it listens and how to stop it. */
export interface LocalRuntime {
  readonly apiUrl: string;
  readonly emulator: Emulator;
  /** The system served now (replaced by an infrastructure reload). */
  readonly system: LocalSystem;
  readonly runner: FunctionRunner;
  readonly pollers: QueuePoller;
  readonly pipes: readonly OutboxPipe[];
  readonly demoUsers: readonly DemoUser[];
  /** IAM enforcement (undefined when off). */
  readonly enforcement?: Enforcement;
  /** The apps run, in provisioning order. */
  readonly apps: readonly LocalApp[];
  /** The stand-in platforms provisioned for platforms the apps attach to by name and none contains. */
  readonly standIns: readonly StandInPlatform[];
  /** Problems found in how the apps use their platforms (route scopes no platform declares), one line each. */
  readonly problems: readonly string[];
  /** Seconds from the call to ready. */
  readonly startupSeconds: number;
  /** Re-synthesizes every app and applies what changed into the same emulator (table data kept), same port. */
  reload(reason?: string): Promise<ReloadResult>;
  stop(): Promise<void>;
}

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

/** The default context of a local synth. */
const LOCAL_CONTEXT = LOCAL_SYNTH_CONTEXT;

/** One app: its cdk.json and where its assembly goes. */
interface AppEntry {
  readonly config: CdkAppConfig;
  readonly assemblyDir: string;
}

/** What serves requests now; torn down and rebuilt by a reload. */
interface Serving {
  readonly system: LocalSystem;
  readonly runner: FunctionRunner;
  readonly pollers: QueuePoller;
  readonly pipes: readonly OutboxPipe[];
  readonly enforcement?: Enforcement;
  readonly gateway: LocalApiGateway;
  /** The templates' alarms, evaluated on what the runtime observes. */
  readonly alarms: LocalAlarms;
  /** AppConfig Data (feature flags, settings), when a template deploys a configuration. */
  readonly appConfigData?: AppConfigDataStandIn;
  readonly stopWatch?: () => void;
}

/** The assemblies to provision, in order, with the stand-ins and the problems found. */
interface Plan {
  readonly assemblies: readonly AssemblyFacts[];
  readonly standIns: readonly StandInPlatform[];
  readonly problems: readonly string[];
  readonly apps: readonly LocalApp[];
}

/**
 * Runs CDK apps on one machine: synthesizes each app's `local` environment by running its `cdk.json` `app`
 * command (as `cdk synth -c env=local` would), starts (or attaches to) the AWS emulator, provisions a stand-in
 * platform when an app attaches to one by name that no app contains, provisions every assembly from its templates,
 * serves every API on one port (`http://127.0.0.1:{port}/{service}/...`), runs the bundled handlers with their
 * template environment, and drives queues and outbox pipes.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const runtime = new Runtime(options);
  await runtime.start();
  return runtime;
}

class Runtime implements LocalRuntime {
  apiUrl = '';
  emulator!: Emulator;
  demoUsers = DEMO_USERS;
  startupSeconds = 0;
  private plan!: Plan;
  private serving!: Serving;
  private readonly entries: AppEntry[];
  /** Synths started before the runtime, by assembly folder. */
  private readonly early = new Map<string, Promise<string>>();
  private readonly log: (line: string) => void;
  private readonly enforce: boolean;
  /** IAM is evaluated: enforcement is on and the optional simulator is installed (or enforcement was asked for). */
  private readonly iam: boolean;
  private readonly context: Readonly<Record<string, unknown>>;
  private readonly started = Date.now();
  private apiPort = 0;
  private stopped = false;
  private awsClients?: EmulatorClients;
  /** Stops the infrastructure watch; `keepPending` lets a change already seen reload. */
  private infrastructureWatch?: (keepPending?: boolean) => void;
  private reloading: Promise<ReloadResult> = Promise.resolve({ applied: true, changes: [], seconds: 0 });

  constructor(private readonly options: LocalRuntimeOptions) {
    this.log = options.log ?? ((line: string) => console.log(line));
    this.enforce = options.enforce ?? enforcementFromEnvironment();
    // Asked for explicitly, enforcement without the simulator fails with what to install; by default it is
    // left out with a notice (the simulator is an optional peer: its licence is the team's choice).
    this.iam = this.enforce && (options.enforce === true || simulatorInstalled());
    this.context = options.context ?? LOCAL_CONTEXT;
    const main = readCdkApp(options.appDir ?? process.cwd());
    const others = (options.withApps ?? []).map((dir) => readCdkApp(dir));
    const seen = new Set<string>();
    this.entries = [];
    for (const config of [...others, main]) {
      if (seen.has(config.dir)) continue;
      seen.add(config.dir);
      const early =
        options.context || (config === main && options.assemblyDir)
          ? undefined
          : options.earlySynth?.get(config.dir);
      const assemblyDir =
        config === main && options.assemblyDir
          ? path.resolve(options.assemblyDir)
          : (early?.assemblyDir ?? privateAssemblyDir(config.dir));
      if (early) this.early.set(assemblyDir, early.done);
      this.entries.push({ config, assemblyDir });
    }
  }

  get system(): LocalSystem {
    return this.serving.system;
  }
  get runner(): FunctionRunner {
    return this.serving.runner;
  }
  get pollers(): QueuePoller {
    return this.serving.pollers;
  }
  get pipes(): readonly OutboxPipe[] {
    return this.serving.pipes;
  }
  get enforcement(): Enforcement | undefined {
    return this.serving.enforcement;
  }
  get apps(): readonly LocalApp[] {
    return this.plan.apps;
  }
  get standIns(): readonly StandInPlatform[] {
    return this.plan.standIns;
  }
  get problems(): readonly string[] {
    return this.plan.problems;
  }

  private step(label: string): void {
    this.log(`[${((Date.now() - this.started) / 1000).toFixed(1)}s] ${label}`);
  }

  async start(): Promise<void> {
    const names = this.entries.map((e) => path.basename(e.config.dir)).join(', ');
    this.step(
      `Synthesizing the local environment of ${this.entries.length === 1 ? names : `${this.entries.length} apps (${names})`} and starting the AWS emulator...`,
    );
    // The emulator starts while the apps synthesize (both take seconds, neither needs the other).
    const elapsed = () => ((Date.now() - this.started) / 1000).toFixed(1);
    let emulatorReady = '';
    let synthesizedAt = '';
    const [emulator, synthesized] = await Promise.allSettled([
      startEmulator().finally(() => (emulatorReady = elapsed())),
      this.synthesizeAll('').finally(() => (synthesizedAt = elapsed())),
    ]);
    if (emulator.status === 'fulfilled') this.emulator = emulator.value;
    if (synthesized.status === 'rejected') {
      if (emulator.status === 'fulfilled') await emulator.value.stop().catch(() => undefined);
      throw synthesized.reason;
    }
    if (emulator.status === 'rejected') throw emulator.reason;
    try {
      this.step(
        `Emulator at ${this.emulator.endpoint}${this.emulator.external ? ' (from AWS_ENDPOINT_URL)' : ' (moto_server)'} ` +
          `(ready at ${emulatorReady}s; synthesized at ${synthesizedAt}s)`,
      );
      for (const notice of this.emulator.notices) this.step(`Note: ${notice}`);
      const port = this.options.port ?? Number(process.env.PORT ?? 3000);
      // The API base URL must be known before provisioning (registry entries point at it); a free port is
      // reserved first when port 0 is asked for.
      this.apiPort = port === 0 ? await freePort() : port;
      this.apiUrl = `http://127.0.0.1:${this.apiPort}`;
      this.plan = await this.makePlan();
      for (const line of this.describePlan(this.plan)) this.step(line);
      const system = await this.provisionAll(this.plan);
      this.serving = await this.serve(system);
      if (system.identity)
        await createDemoUsers(this.aws, system.identity.userPoolId, system.identity.groups);
      if (this.options.watch) this.watchInfrastructure();
      this.startupSeconds = (Date.now() - this.started) / 1000;
      this.step(`Ready: ${system.routes.length} routes on ${this.apiUrl}`);
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  /** Synthesizes every app; `suffix` names a staging folder next to each assembly (reload). */
  private async synthesizeAll(suffix: string): Promise<void> {
    const results = await Promise.allSettled(
      this.entries.map((entry) => {
        const early = suffix === '' ? this.early.get(entry.assemblyDir) : undefined;
        return (
          early ??
          synthesizeApp(entry.config, {
            outdir: entry.assemblyDir + suffix,
            context: this.context,
            // The templates are provisioned, not deployed: aws-cdk-lib's schema validation (most of a synth's
            // time) is left to `cdk synth`/`cdk deploy`; the app's own checks (cdk-nag) still run.
            validateTemplates: false,
          })
        );
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * The provisioning order of the apps' assemblies, with stand-in platforms for platforms attached by name that
   * no app contains, and the route scopes that the platform they name does not declare.
   */
  private async makePlan(): Promise<Plan> {
    const facts = this.entries.map((e) => assemblyFacts(e.assemblyDir));
    const provided = new Map(facts.flatMap((f) => f.platforms.map((p) => [platformKey(p), p] as const)));
    const last = this.entries[this.entries.length - 1];
    const standIns = await synthesizeStandIns(facts, last.assemblyDir, last.config.context);
    const problems = standIns.flatMap((standIn) => standIn.problems);
    facts.unshift(...standIns.map((standIn) => assemblyFacts(standIn.assemblyDir)));
    for (const route of facts.flatMap((f) => f.routeScopes)) {
      const platform = route.platform && provided.get(platformKey(route.platform));
      if (platform && !platform.scopes.includes(route.scope)) {
        problems.push(
          `${route.stackName}: ${route.route} requires the scope "${route.scope}", which the platform ${platformKey(platform)} does not declare (declared: ${platform.scopes.join(', ') || 'none'}): no token can carry it until the platform team adds it`,
        );
      }
    }
    const assemblies = provisioningOrder(facts);
    const apps = assemblies.flatMap((f) => {
      const entry = this.entries.find((e) => e.assemblyDir === f.dir);
      return entry ? [{ dir: entry.config.dir, assemblyDir: entry.assemblyDir, stacks: f.stacks }] : [];
    });
    return { assemblies, standIns, problems, apps };
  }

  private describePlan(plan: Plan): string[] {
    const lines: string[] = [];
    for (const standIn of plan.standIns) {
      const admin = standIn.groups.find((g) => g.name === 'admins')?.scopes ?? [];
      lines.push(
        `No platform in ${plan.apps.length === 1 ? 'this app' : 'these apps'}: a stand-in platform for ${platformKey(standIn)} was provisioned ` +
          `with scopes ${standIn.scopes.join(', ') || '(none)'} (every user: ${standIn.defaultScopes.join(', ') || 'none'}; ` +
          `group admins also: ${admin.join(', ') || 'none'}), groups customers and admins, an event bus and its registry entries. ` +
          `The real ${platformKey(standIn)} platform must declare these scopes (its platform team adds them).`,
      );
    }
    for (const problem of plan.problems) lines.push(`Warning: ${problem}`);
    return lines;
  }

  /** Provisions every assembly into the emulator, in order, and merges what the runtime serves. */
  private async provisionAll(plan: Plan): Promise<LocalSystem> {
    const systems: LocalSystem[] = [];
    for (const assembly of plan.assemblies) {
      systems.push(
        await provision(assembly.dir, this.emulator, {
          apiBaseUrl: this.apiUrl,
          log: (line) => this.step(line),
          // Alarms are evaluated (local/monitoring), not "not emulated".
          enforcedTypes: this.enforce ? new Set([...ENFORCED_TYPES, ...ALARM_TYPES]) : ALARM_TYPES,
        }),
      );
    }
    return mergeSystems(systems, this.emulator);
  }

  /** Starts enforcement, the function runner, pollers, pipes and the gateway for `system`. */
  private async serve(system: LocalSystem): Promise<Serving> {
    const log = this.log;
    const emulator = this.emulator;
    const stops: Array<() => Promise<void> | void> = [];
    try {
      let enforcement: Enforcement | undefined;
      if (this.iam) {
        enforcement = await Enforcement.start(system, emulator, (line) => log(`  [iam] ${line}`));
        const started = enforcement;
        stops.unshift(() => started.stop());
        await removeDeniedRuleTargets(this.aws, system, enforcement);
        const denied = enforcement.denied().length;
        this.step(
          `IAM enforced: ${system.functions.size} functions call AWS through an authorizing proxy; ` +
            `${enforcement.interactions.length} service interactions evaluated, ${denied} denied`,
        );
      } else if (this.enforce) {
        this.step(
          `IAM is NOT enforced: the optional peer ${SIMULATOR_PACKAGE} (AGPL-3.0-or-later) is not installed; ` +
            `\`npm install --save-dev ${SIMULATOR_PACKAGE}\` to evaluate IAM, KMS and resource policies offline ` +
            '(web ACLs are enforced)',
        );
      } else {
        this.step(
          `Enforcement is OFF (--no-enforce or ${ENFORCE_VARIABLE}=off): IAM, KMS and WAF are not evaluated`,
        );
      }

      // The templates' alarms, evaluated on what the runner, gateway, pipes and queues report (ALARM/OK lines).
      const alarms = new LocalAlarms(system, { log, sqs: this.aws.sqs });
      for (const line of alarms.describe()) this.step(line);
      stops.unshift(() => alarms.stop());

      // Feature flags and settings: moto has no AppConfig Data, so the runtime serves what the templates deploy.
      const appConfigData = AppConfigDataStandIn.forSystem(system, emulator.region, enforcement, (line) =>
        log(`  [appconfig] ${line}`),
      );
      const appConfigEndpoint = await appConfigData?.start();
      if (appConfigData) {
        stops.unshift(() => appConfigData.stop());
        this.step(
          `AppConfig Data served by the runtime at ${appConfigEndpoint}: ${appConfigData.describe()}`,
        );
      }

      const runner = new FunctionRunner(system.functions, emulator, {
        log: (fn, line) => log(`  ${fn.description.padEnd(34).slice(0, 34)} | ${line}`),
        onInvocation: alarms.onInvocation,
        ...(appConfigEndpoint ? { serviceEndpoints: { APPCONFIGDATA: appConfigEndpoint } } : {}),
        ...(enforcement
          ? { aws: (fn) => ({ endpoint: enforcement.endpoint, ...enforcement.credentialsOf(fn) }) }
          : {}),
      });
      stops.unshift(() => runner.close());
      const invoke = (key: string, event: unknown) => runner.invoke(key, event);

      const mappings = system.queueMappings.filter(
        (m) => !enforcement || enforcement.mappingAllowed(m.queueArn, m.functionKey),
      );
      const pollers = new QueuePoller(mappings, emulator, invoke, { log: (line) => log(`  [sqs] ${line}`) });
      const pipes = system.pipes
        .filter((pipe) => !enforcement || enforcement.pipeAllowed(pipe.streamArn))
        .map(
          (pipe) =>
            new OutboxPipe(pipe, emulator, {
              log: (line: string) => log(`  [pipe] ${line}`),
              clients: this.aws,
              onBatch: alarms.onPipeBatch,
            }),
        );
      stops.unshift(() => pollers.stop(), ...pipes.map((p) => () => p.stop()));

      // The web ACLs associated with the API stages, evaluated by the gateway (none when enforcement is off).
      const waf = this.enforce ? WebAclGuard.fromResources(system.resources) : undefined;
      for (const line of waf?.describe() ?? []) log(`  [waf] ${line}`);

      const identity = system.identity;
      const gateway = new LocalApiGateway({
        routes: system.routes,
        gatewayResponses: system.gatewayResponses,
        identity,
        emulator,
        invoke,
        port: this.apiPort,
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
                groupsOf(this.aws, identity.userPoolId, username),
              );
            }
          : undefined,
        ...(enforcement ? { iam: enforcement } : {}),
        ...(waf ? { waf } : {}),
        log: (line) => log(`  [api] ${line}`),
        onResponse: alarms.onApiResponse,
      });
      await gateway.start();
      stops.unshift(() => gateway.stop());

      if (this.options.drive ?? true) {
        pollers.start();
        for (const pipe of pipes) pipe.start();
      }
      alarms.start();
      const stopWatch = this.options.watch ? watchHandlers(runner, (line) => log(`  ${line}`)) : undefined;
      return { system, runner, pollers, pipes, enforcement, gateway, alarms, appConfigData, stopWatch };
    } catch (error) {
      for (const stop of stops) await Promise.resolve(stop()).catch(() => undefined);
      throw error;
    }
  }

  /** Stops what serves requests (not the emulator): gateway first, then pollers, pipes, functions, enforcement. */
  private async unserve(serving: Serving): Promise<void> {
    serving.stopWatch?.();
    const steps: Array<() => Promise<void> | void> = [
      () => serving.alarms.stop(),
      () => serving.gateway.stop(),
      () => serving.pollers.stop(),
      ...serving.pipes.map((p) => () => p.stop()),
      () => serving.runner.close(),
      ...(serving.appConfigData ? [() => serving.appConfigData!.stop()] : []),
      ...(serving.enforcement ? [() => serving.enforcement!.stop()] : []),
    ];
    for (const step of steps) {
      await Promise.resolve(step()).catch((error: unknown) => this.log(`stop failed: ${String(error)}`));
    }
  }

  reload(reason = 'requested'): Promise<ReloadResult> {
    this.reloading = this.reloading.then(async () => {
      const result = await this.reloadNow(reason);
      // The app may load other files now: the watch follows what this synth loaded.
      if (result.applied && this.infrastructureWatch && !this.stopped) this.watchInfrastructure();
      this.options.onReload?.(result);
      return result;
    });
    return this.reloading;
  }

  private async reloadNow(reason: string): Promise<ReloadResult> {
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    if (this.stopped) return { applied: false, changes: [], seconds: 0 };
    this.log(`[reload] Infrastructure changed (${reason}): re-synthesizing...`);
    const STAGING = '.next';
    try {
      await this.synthesizeAll(STAGING);
    } catch (error) {
      this.log(`[reload] Synth failed, still serving the previous system: ${errorText(error)}`);
      for (const entry of this.entries)
        fs.rmSync(entry.assemblyDir + STAGING, { recursive: true, force: true });
      return { applied: false, changes: [], seconds: seconds() };
    }
    const previous = this.serving;
    const previousPlan = this.plan;
    await this.unserve(previous);
    // The new assemblies take the place of the old ones (the old are kept until the new one is served).
    for (const entry of this.entries) {
      fs.rmSync(entry.assemblyDir + '.previous', { recursive: true, force: true });
      fs.renameSync(entry.assemblyDir, entry.assemblyDir + '.previous');
      fs.renameSync(entry.assemblyDir + STAGING, entry.assemblyDir);
    }
    try {
      this.plan = await this.makePlan();
      for (const line of this.describePlan(this.plan).filter((l) => l.startsWith('Warning')))
        this.log(`[reload] ${line}`);
      const system = await this.provisionAll(this.plan);
      this.serving = await this.serve(system);
      if (system.identity)
        await createDemoUsers(this.aws, system.identity.userPoolId, system.identity.groups);
      const changes = systemChanges(previous.system, system);
      for (const entry of this.entries)
        fs.rmSync(entry.assemblyDir + '.previous', { recursive: true, force: true });
      this.log(
        `[reload] Applied in ${seconds().toFixed(1)} s (table data kept)${changes.length === 0 ? ': no infrastructure change' : ':'}`,
      );
      for (const change of changes) this.log(`[reload]   ${change}`);
      return { applied: true, changes, seconds: seconds() };
    } catch (error) {
      this.log(`[reload] Could not apply the change, serving the previous system again: ${errorText(error)}`);
      for (const entry of this.entries) {
        fs.rmSync(entry.assemblyDir, { recursive: true, force: true });
        fs.renameSync(entry.assemblyDir + '.previous', entry.assemblyDir);
      }
      this.plan = previousPlan;
      this.serving = await this.serve(previous.system);
      return { applied: false, changes: [], seconds: seconds() };
    }
  }

  /**
   * Watches the apps' infrastructure code and reloads (debounced) when a source file changes: for each app, the
   * files its last synth loaded (outside node_modules) with `cdk.json` and `cdk.context.json`, or — when the synth
   * listed none — its `bin/` and `lib/` folders (or the folder of the entry file of its `app` command) and
   * `cdk.json`. Set up again after each reload (the app may load other files now).
   */
  private watchInfrastructure(): void {
    // A change seen while the watch is set up again still reloads (its timer is kept).
    this.infrastructureWatch?.(true);
    const watchers: fs.FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    const changed = new Set<string>();
    const trigger = (file: string) => {
      if (this.stopped) return;
      changed.add(file);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...changed].map((f) => {
          const relative = path.relative(process.cwd(), f);
          return relative.startsWith('..') ? f : relative;
        });
        changed.clear();
        void this.reload(files.slice(0, 3).join(', ') + (files.length > 3 ? ', ...' : ''));
      }, 300);
    };
    const watch = (target: string, recursive: boolean, accept: (file: string) => boolean) => {
      try {
        watchers.push(
          fs.watch(target, { recursive }, (_event, name) => {
            const file = name ? path.join(target, name.toString()) : target;
            if (accept(file)) trigger(file);
          }),
        );
      } catch (error) {
        this.log(`Cannot watch ${target}: ${errorText(error)}`);
      }
    };
    const files = new Set<string>();
    for (const { config, assemblyDir } of this.entries) {
      const loaded = loadedFiles(assemblyDir);
      if (loaded) {
        for (const file of [...loaded, 'cdk.json', 'cdk.context.json'])
          files.add(path.resolve(config.dir, file));
        continue;
      }
      for (const folder of infrastructureFolders(config)) {
        watch(folder, true, (file) => isSourceFile(file));
      }
      files.add(path.join(config.dir, 'cdk.json'));
    }
    // The folders of the files, not the files: an editor that saves by replacing a file is seen too.
    const folders = new Set([...files].map((file) => path.dirname(file)));
    for (const folder of folders) {
      if (fs.existsSync(folder)) watch(folder, false, (file) => files.has(file));
    }
    this.infrastructureWatch = (keepPending?: boolean) => {
      if (!keepPending) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    };
  }

  /** The runtime's own SDK clients to the emulator (demo users, group lookups, rule targets, pipes). */
  private get aws(): EmulatorClients {
    return (this.awsClients ??= new EmulatorClients(this.emulator));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.infrastructureWatch?.();
    await this.reloading.catch(() => undefined);
    const invoked = this.serving?.alarms.functionSummary() ?? [];
    if (invoked.length > 0)
      this.log(['Functions invoked:', ...invoked.map((line) => `  ${line}`)].join('\n'));
    if (this.serving) await this.unserve(this.serving);
    this.awsClients?.destroy();
    await this.emulator?.stop().catch((error: unknown) => this.log(`stop failed: ${String(error)}`));
    for (const entry of this.entries) {
      if (!OWN_ASSEMBLY.test(path.basename(entry.assemblyDir))) continue;
      for (const suffix of ['', '.next', '.previous']) {
        fs.rmSync(entry.assemblyDir + suffix, { recursive: true, force: true });
      }
      try {
        fs.rmdirSync(path.dirname(entry.assemblyDir));
      } catch {
        // Not empty (another runtime's folder, an earlier synth): kept.
      }
    }
  }
}

/** A source or JSON file outside node_modules, cdk.out* and .git (what a folder watch reloads on). */
function isSourceFile(file: string): boolean {
  if (!/\.(ts|mts|cts|js|mjs|cjs|json)$/.test(file) || file.endsWith('.d.ts')) return false;
  return !/(^|[/\\])(node_modules|cdk\.out[^/\\]*|\.git)([/\\]|$)/.test(file);
}

/** The folders holding an app's infrastructure code: `bin/` and `lib/`, or the folder of its entry file. */
function infrastructureFolders(config: CdkAppConfig): string[] {
  const folders = ['bin', 'lib'].map((f) => path.join(config.dir, f)).filter((f) => fs.existsSync(f));
  if (folders.length > 0) return folders;
  const entry = config.app.split(/\s+/).find((word) => /\.[cm]?[jt]s$/.test(word));
  return entry ? [path.dirname(path.resolve(config.dir, entry))] : [];
}

/** Starts the function runner's handler-code hot reload, when the runner has it. */
function watchHandlers(runner: FunctionRunner, log: (line: string) => void): (() => void) | undefined {
  const watchable = runner as unknown as { watch?: (log: (line: string) => void) => () => void };
  return typeof watchable.watch === 'function' ? watchable.watch.call(runner, log) : undefined;
}

/** One system made of several provisioned assemblies (same emulator). */
function mergeSystems(systems: readonly LocalSystem[], emulator: EmulatorEndpoint): LocalSystem {
  if (systems.length === 1) return systems[0];
  const notEmulated = new Map<string, number>();
  for (const { type, count } of systems.flatMap((s) => s.notEmulated)) {
    notEmulated.set(type, (notEmulated.get(type) ?? 0) + count);
  }
  const identity = systems.find((s) => s.identity)?.identity;
  return {
    emulator,
    functions: new Map(systems.flatMap((s) => [...s.functions])),
    routes: systems.flatMap((s) => s.routes),
    gatewayResponses: systems.flatMap((s) => s.gatewayResponses),
    queueMappings: systems.flatMap((s) => s.queueMappings),
    pipes: systems.flatMap((s) => s.pipes),
    ...(identity ? { identity } : {}),
    notEmulated: [...notEmulated]
      .map(([type, count]) => ({ type, count }))
      .sort((a, b) => a.type.localeCompare(b.type)),
    resources: systems.flatMap((s) => s.resources),
    accountId: systems[0]?.accountId ?? '',
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  clients: EmulatorClients,
  system: LocalSystem,
  enforcement: Enforcement,
): Promise<void> {
  const denied = enforcement.deniedRuleTargets();
  if (denied.length === 0) return;
  for (const { ruleArn, queueArn } of denied) {
    const [, busName, ruleName] = /:rule\/(?:([^/]+)\/)?([^/]+)$/.exec(ruleArn) ?? [];
    const rule = system.resources.find((r) => r.type === 'AWS::Events::Rule' && r.attributes.Arn === ruleArn);
    const ids = ((rule?.properties.Targets ?? []) as { Id?: string; Arn?: string }[])
      .filter((t) => t.Arn === queueArn && t.Id)
      .map((t) => t.Id!);
    if (!ruleName || ids.length === 0) continue;
    await clients.events.send(
      new RemoveTargetsCommand({ Rule: ruleName, ...(busName ? { EventBusName: busName } : {}), Ids: ids }),
    );
  }
}

/** The user's groups, from the emulator (for tokens that do not carry the cognito:groups claim). */
async function groupsOf(clients: EmulatorClients, userPoolId: string, username: string): Promise<string[]> {
  const { Groups = [] } = await clients.cognito.send(
    new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }),
  );
  return Groups.map((g) => String(g.GroupName));
}

/** Creates the demo users (those that exist already are kept), each in those of its groups the pool has. */
async function createDemoUsers(
  clients: EmulatorClients,
  userPoolId: string,
  poolGroups: readonly string[],
): Promise<void> {
  const { cognito } = clients;
  for (const user of DEMO_USERS) {
    try {
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
    } catch (error) {
      if (error instanceof UsernameExistsException) continue;
      throw error;
    }
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: userPoolId,
        Username: user.username,
        Password: user.password,
        Permanent: true,
      }),
    );
    for (const group of user.groups.filter((g) => poolGroups.length === 0 || poolGroups.includes(g))) {
      await cognito.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: userPoolId,
          Username: user.username,
          GroupName: group,
        }),
      );
    }
  }
}
