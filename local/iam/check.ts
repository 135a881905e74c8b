import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMotoServer } from '../emulator';
import type { EmulatorEndpoint, LocalSystem } from '../model';
import { provision } from '../provisioner';
import { Authorizer, denialLine } from './authorizer';
import type { EvaluatedInteraction } from './interactions';
import { deriveInteractions, evaluateInteractions } from './interactions';
import { PolicyModel } from './policy-model';

/**
 * The account and region the assembly's stacks are pinned to (undefined: environment-agnostic). Stacks pinned to
 * different ones are refused: cross-account and cross-region interactions are not evaluated.
 */
function environmentOf(assemblyDir: string): { accountId?: string; region?: string } {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; environment?: string }>;
  };
  const accounts = new Set<string>();
  const regions = new Set<string>();
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const [, account, region] = /^aws:\/\/([^/]+)\/([^/]+)$/.exec(artifact.environment ?? '') ?? [];
    if (account && /^\d{12}$/.test(account)) accounts.add(account);
    if (region && region !== 'unknown-region') regions.add(region);
  }
  if (accounts.size > 1 || regions.size > 1) {
    throw new Error(
      `the assembly's stacks are pinned to several environments (accounts ${[...accounts].join(', ') || '-'}, ` +
        `regions ${[...regions].join(', ') || '-'}); check evaluates one account and region at a time`,
    );
  }
  return { accountId: [...accounts][0], region: [...regions][0] };
}

/** The outcome of {@link checkAssembly}. */
export interface CheckResult {
  /** Every interaction derived from the assembly, with its decision. */
  readonly interactions: readonly EvaluatedInteraction[];
  /** The interactions AWS would refuse. */
  readonly denied: readonly EvaluatedInteraction[];
  /** One line per denied interaction: kind, caller, target, principal, action, resource and the missing statement. */
  readonly report: readonly string[];
}

/** Options of {@link checkAssembly}. */
export interface CheckOptions {
  /** Progress lines. @default - none */
  readonly log?: (line: string) => void;
  /**
   * Cloud assemblies provisioned before the checked one, in this order, into the same emulator: the platform an
   * app attaches to by name (e.g. the stand-in `dev` provisions), so that the registry entries the app reads
   * exist. Their resources take part in the evaluation (a grant on the platform's bus, its key's policy); their
   * own interactions are not evaluated: {@link CheckResult} holds the checked assembly's only.
   * @default - none
   */
  readonly platformAssemblies?: readonly string[];
}

/**
 * Deploy-readiness without an account: derives every runtime interaction of a synthesized cloud assembly
 * (route → function, function → the table, indexes, key and routes the constructs declare it calls, rule → queue,
 * event source mapping → queue, pipe → stream, bus and dead-letter queue, alarm → topic, trigger → function)
 * and evaluates each as AWS would, with the evaluator the local runtime enforces with. The assembly's templates
 * are resolved by provisioning them into a private, throw-away emulator on a loopback port (the same resolution
 * the local runtime uses), which is stopped before this returns.
 */
export async function checkAssembly(assemblyDir: string, options: CheckOptions = {}): Promise<CheckResult> {
  if (!existsSync(join(assemblyDir, 'manifest.json'))) {
    throw new Error(`${assemblyDir} is not a cloud assembly (no manifest.json): run cdk synth first`);
  }
  const log = options.log ?? (() => undefined);
  // Stacks pinned to an account and region carry them as literals in their ARNs (key-policy root statements,
  // permission source ARNs): the throw-away emulator takes the same ones.
  const { accountId, region } = environmentOf(assemblyDir);
  const moto = await startMotoServer({ accountId });
  const emulator: EmulatorEndpoint = {
    endpoint: moto.endpoint,
    region: region ?? 'us-east-1',
    accessKeyId: 'check',
    secretAccessKey: 'check',
  };
  try {
    const provisionOptions = { apiBaseUrl: 'http://127.0.0.1:3000', log, requireAssets: false };
    const platforms: LocalSystem[] = [];
    for (const dir of options.platformAssemblies ?? []) {
      platforms.push(await provision(dir, emulator, provisionOptions));
    }
    const system = await provision(assemblyDir, emulator, provisionOptions);
    // The platforms' resources are named and evaluated with (policies, keys); interactions are derived from the
    // checked assembly's routes, mappings and resources only.
    const platformStacks = new Set(platforms.flatMap((p) => p.resources.map((r) => r.stackName)));
    const resources = [...platforms.flatMap((p) => p.resources), ...system.resources];
    const model = new PolicyModel(resources, system.accountId, emulator.region);
    const own = deriveInteractions({ ...system, resources }, emulator.region).filter(
      (i) => !platformStacks.has(i.from.split('/')[0]),
    );
    const interactions = await evaluateInteractions(own, new Authorizer(model));
    const denied = interactions.filter((i) => !i.decision.allowed);
    const report = denied.map((i) => `${i.kind}: ${i.from} → ${i.to}: ${denialLine(i.decision, model)}`);
    return { interactions, denied, report };
  } finally {
    await moto.stop();
  }
}
