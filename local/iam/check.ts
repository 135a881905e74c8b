import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMotoServer } from '../emulator';
import type { EmulatorEndpoint } from '../model';
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
    const system = await provision(assemblyDir, emulator, {
      apiBaseUrl: 'http://127.0.0.1:3000',
      log,
      requireAssets: false,
    });
    const model = new PolicyModel(system.resources, system.accountId, emulator.region);
    const interactions = await evaluateInteractions(
      deriveInteractions(system, emulator.region),
      new Authorizer(model),
    );
    const denied = interactions.filter((i) => !i.decision.allowed);
    const report = denied.map((i) => `${i.kind}: ${i.from} → ${i.to}: ${denialLine(i.decision, model)}`);
    return { interactions, denied, report };
  } finally {
    await moto.stop();
  }
}
