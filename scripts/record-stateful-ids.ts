/**
 * `npx tsx scripts/record-stateful-ids.ts`: records the logical IDs of every stateful resource of the reference
 * system's `dev` and `prod` templates in `test/app/stateful-logical-ids.json`, the contract that
 * `test/app/stateful-logical-ids.test.ts` holds the templates to (issue 13: stateful resources do not move).
 *
 * Re-record only when a stateful resource was intentionally added or removed, and say so in CHANGELOG.md. A
 * moved logical ID is not a reason to re-record: CloudFormation replaces the resource (a replaced table loses
 * its data), so keep the old ID with `overrideLogicalId` or CDK's refactoring support instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { createShopSystem } from '../lib/stacks/shop-system';

/** The environments whose templates are recorded. */
export const RECORDED_ENVIRONMENTS = ['dev', 'prod'] as const;

/** Where the recording lives, relative to the repository root. */
export const RECORDING_FILE = path.join('test', 'app', 'stateful-logical-ids.json');

/**
 * The CloudFormation types whose logical ID must not change, because a changed logical ID makes CloudFormation
 * create a new resource and delete the old one:
 * - the data itself is lost: tables, keys (and their aliases: what decrypts the data), the user pool with its
 *   clients, groups, domain and resource servers (users, passwords, app client IDs), queues (messages in
 *   flight, dead letters), the event bus and its archive (archived events), log groups (logs);
 * - the alarm topic: its e-mail subscriptions must be confirmed again;
 * - the registry's SSM parameters and Cloud Map namespace, services and instances: they hold no data of their
 *   own, but they have fixed names that readers look up, so a moved one collides with its old self (the new
 *   resource is created before the old one is deleted) and fails the deployment; they are the contract other
 *   services read, so they are held to the same rule.
 */
export const STATEFUL_TYPES: ReadonlyArray<string | RegExp> = [
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolDomain',
  'AWS::Cognito::UserPoolGroup',
  'AWS::Cognito::UserPoolResourceServer',
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::Events::Archive',
  'AWS::Logs::LogGroup',
  'AWS::SNS::Topic',
  'AWS::SSM::Parameter',
  /^AWS::ServiceDiscovery::/,
];

/** Whether resources of a CloudFormation type are recorded (see {@link STATEFUL_TYPES}). */
export function isStatefulType(type: string): boolean {
  return STATEFUL_TYPES.some((t) => (typeof t === 'string' ? t === type : t.test(type)));
}

/** One stateful resource of a template. */
export interface StatefulResource {
  readonly logicalId: string;
  readonly type: string;
}

/** A stateful resource as found in a synthesized template, with the construct path that produced it. */
export interface FoundStatefulResource extends StatefulResource {
  /** The construct path (`aws:cdk:path` metadata), for messages only; not part of the contract. */
  readonly path?: string;
}

/** The stateful resources of one environment, by stack name, each list sorted by logical ID. */
export type StatefulResourcesByStack<T extends StatefulResource = StatefulResource> = Record<string, T[]>;

/** The recording: stateful resources by environment, then stack name. */
export type StatefulRecording = Record<string, StatefulResourcesByStack>;

/**
 * Synthesizes one environment of the reference system the way `cdk synth -c env=<envName>` does, without
 * bundling any function (logical IDs do not depend on the bundles), and returns the stateful resources of
 * every stack, by stack name, each list sorted by logical ID.
 */
export function synthStatefulResources(envName: string): StatefulResourcesByStack<FoundStatefulResource> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-stateful-${envName}-`));
  try {
    const context: Record<string, unknown> = {
      ...cdkJsonContext(),
      env: envName,
      'aws:cdk:bundling-stacks': [],
      // As the CLI does: each resource names its construct path, which a failing comparison reports.
      'aws:cdk:enable-path-metadata': true,
    };
    const app = new App({ outdir, context });
    createShopSystem(app, loadEnvironmentConfig(envName));
    const byStack: StatefulResourcesByStack<FoundStatefulResource> = {};
    for (const stack of app.synth().stacks) {
      const resources = (stack.template.Resources ?? {}) as Record<
        string,
        { Type: string; Metadata?: Record<string, unknown> }
      >;
      byStack[stack.stackName] = Object.entries(resources)
        .filter(([, r]) => isStatefulType(r.Type))
        .map(([logicalId, r]) => {
          const cdkPath = r.Metadata?.['aws:cdk:path'];
          return typeof cdkPath === 'string'
            ? { logicalId, type: r.Type, path: cdkPath }
            : { logicalId, type: r.Type };
        })
        .sort((a, b) => compare(a.logicalId, b.logicalId));
    }
    return sortKeys(byStack);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The recording as the script writes it: logical ID and type only, stacks and environments sorted. */
export function recordStatefulResources(
  envNames: readonly string[] = RECORDED_ENVIRONMENTS,
): StatefulRecording {
  const recording: StatefulRecording = {};
  for (const envName of envNames) {
    const byStack = synthStatefulResources(envName);
    recording[envName] = Object.fromEntries(
      Object.entries(byStack).map(([stack, list]) => [
        stack,
        list.map(({ logicalId, type }) => ({ logicalId, type })),
      ]),
    );
  }
  return recording;
}

/** Code-unit order, so the recording does not depend on the machine's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compare(a, b)));
}

if (require.main === module) {
  const file = path.join(__dirname, '..', RECORDING_FILE);
  const recording = recordStatefulResources();
  fs.writeFileSync(file, `${JSON.stringify(recording, null, 2)}\n`);
  const counts = Object.entries(recording).map(
    ([env, stacks]) => `${env}: ${Object.values(stacks).reduce((n, list) => n + list.length, 0)}`,
  );
  console.log(`Wrote ${path.relative(process.cwd(), file)} (stateful resources ${counts.join(', ')})`);
}
