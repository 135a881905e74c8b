/**
 * The provisioning run: reads the assembly's stacks in dependency order, resolves each template's resources in
 * dependency order and hands each one to the provisioner of its AWS service, then assembles the LocalSystem.
 */
import { EmulatorClients, emulatorAccountIdOf } from '../aws-clients';
import type { ResourceValues, TemplateResource } from '../intrinsics';
import { TemplateResolver, loadParameters, topologicalOrder } from '../intrinsics';
import type { EmulatorEndpoint, LocalSystem } from '../model';
import { apiGatewayProvisioner, localApiUrl } from './apigateway';
import { appConfigProvisioner } from './appconfig';
import type { StackArtifact } from './assembly';
import { progressSummary, readStacks, readTemplate } from './assembly';
import { cognitoProvisioner, identityOf } from './cognito';
import { dynamoDbProvisioner } from './dynamodb';
import { deleteRule, eventBusProvisioner, ruleProvisioner } from './events';
import { lambdaProvisioner } from './lambda';
import { pipesProvisioner } from './pipes';
import { sqsProvisioner } from './sqs';
import { secretsProvisioner } from './secrets';
import { readParameter, ssmProvisioner } from './ssm';
import { standIn } from './stand-ins';
import type { Props, ResourceProvisioner, StackContext } from './state';
import { ProvisionState } from './state';

/** Options of {@link provision}. */
export interface ProvisionOptions {
  /** Base URL of the local API gateway, e.g. `http://127.0.0.1:3000`; service APIs live at `{apiBaseUrl}/{service}/`. */
  readonly apiBaseUrl: string;
  /** Receives one progress line per stack, one line per resource updated in place, and one warning line listing what is not emulated. */
  readonly log?: (line: string) => void;
  /**
   * Whether every function must have its bundled asset (to run it). The deploy-readiness check runs no
   * function, so it also reads assemblies synthesized without bundling.
   * @default true
   */
  readonly requireAssets?: boolean;
  /**
   * Types the runtime does not create but evaluates (IAM roles and policies, keys, resource policies, web ACLs,
   * alarms' targets when enforcement is on): left out of the "not emulated" warning.
   * @default - none
   */
  readonly enforcedTypes?: ReadonlySet<string>;
  /**
   * The LocalSystem of an earlier run into the same emulator (an infrastructure reload): the rules it had that
   * the assembly no longer has are deleted, so that a removed subscription stops delivering. Tables, queues,
   * user pools and parameters it had are left as they are (with their data).
   * @default - nothing is deleted
   */
  readonly previous?: LocalSystem;
}

/** The provisioner of each AWS service, in no particular order (each names the types it handles). */
const PROVISIONERS: readonly ResourceProvisioner[] = [
  dynamoDbProvisioner,
  sqsProvisioner,
  eventBusProvisioner,
  ruleProvisioner,
  cognitoProvisioner,
  ssmProvisioner,
  secretsProvisioner,
  appConfigProvisioner,
  lambdaProvisioner,
  apiGatewayProvisioner,
  pipesProvisioner,
];

const BY_TYPE = new Map(PROVISIONERS.flatMap((p) => p.types.map((type) => [type, p] as const)));

/** Resource types the provisioner creates in the emulator or turns into local runtime configuration. */
export const EMULATED_TYPES: ReadonlySet<string> = new Set(BY_TYPE.keys());

/**
 * Creates, in the emulator, what the cloud assembly's stack templates describe (tables, streams, queues with
 * redrive, event bus and rules, user pool, client, scopes and groups, registry parameters), stack after stack
 * in dependency order, and returns what the local runtime needs to serve routes, run functions, poll queues
 * and drive the outbox pipes. Types it does not emulate are listed in `notEmulated` and in one warning line.
 *
 * Idempotent: run again into the same emulator (on the same or a changed assembly), it creates what is new,
 * updates what changed where the emulator allows it (queue attributes, rule patterns and targets, client and
 * group settings, parameter values, new table indexes or stream) and keeps what exists as it is (tables and
 * their items, queues and their messages, user pools and their users); given the earlier run's system
 * (`previous`), it deletes the rules the assembly no longer has. The LocalSystem it returns is built afresh
 * from the assembly (functions and their environments, routes, mappings, pipes).
 */
export async function provision(
  assemblyDir: string,
  emulator: EmulatorEndpoint,
  options: ProvisionOptions,
): Promise<LocalSystem> {
  const log = options.log ?? (() => undefined);
  const enforcedTypes = options.enforcedTypes ?? new Set<string>();
  const clients = new EmulatorClients(emulator);
  try {
    const state = new ProvisionState(
      {
        assemblyDir,
        emulator,
        accountId: await emulatorAccountIdOf(clients),
        apiBaseUrl: options.apiBaseUrl.replace(/\/+$/, ''),
        requireAssets: options.requireAssets ?? true,
        log,
      },
      clients,
    );
    for (const stack of readStacks(assemblyDir)) await provisionStack(state, stack);
    if (options.previous) await deleteRemovedRules(state, options.previous);
    const notEmulated = [...state.notEmulated]
      .map(([type, count]) => ({ type, count }))
      .sort((a, b) => a.type.localeCompare(b.type));
    const unused = notEmulated.filter((e) => !enforcedTypes.has(e.type));
    if (unused.length > 0) {
      log(
        `Warning: not emulated locally (no effect offline): ${unused.map((e) => `${e.type} x${e.count}`).join(', ')}`,
      );
    }
    return {
      emulator,
      functions: state.functions,
      routes: state.routes,
      gatewayResponses: state.gatewayResponses,
      queueMappings: state.queueMappings,
      pipes: state.pipes,
      identity: identityOf(state),
      notEmulated,
      resources: state.resources,
      accountId: state.settings.accountId,
    };
  } finally {
    clients.destroy();
  }
}

async function provisionStack(state: ProvisionState, stack: StackArtifact): Promise<void> {
  const { assemblyDir, emulator, accountId } = state.settings;
  const template = readTemplate(assemblyDir, stack);
  state.log(`Provisioning ${stack.name}: ${progressSummary(template)}`);

  const parameters = await loadParameters(template, (name) => readParameter(state, name, stack.name));
  const values = new Map<string, ResourceValues>();
  const resolver = new TemplateResolver(template, {
    stackName: stack.name,
    region: stack.region ?? emulator.region,
    accountId,
    parameters,
    resource: (id) => values.get(id),
    rewrite: (value) => localApiUrl(state, value),
  });
  const context: StackContext = { stack, template, resolver, values, local: [] };
  for (const logicalId of topologicalOrder(template)) {
    const resource = template.Resources[logicalId];
    if (resource.Condition && !resolver.condition(resource.Condition)) continue;
    const provisioner = BY_TYPE.get(resource.Type);
    if (!provisioner) {
      state.countNotEmulated(resource.Type);
      const standInValues = standIn(resource.Type, stack.name, logicalId, emulator.region, accountId);
      values.set(logicalId, standInValues);
      record(state, context, logicalId, resource, standInValues, () =>
        resolver.resolve(resource.Properties ?? {}, logicalId),
      );
      continue;
    }
    const props = (resolver.resolve(resource.Properties ?? {}, logicalId) ?? {}) as Props;
    try {
      const created = await provisioner.provision(state, {
        context,
        logicalId,
        resource,
        props,
        physicalName: `${stack.name}-${logicalId}`,
      });
      values.set(logicalId, created);
      record(state, context, logicalId, resource, created, () => props);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${stack.name}: cannot provision ${logicalId} (${resource.Type}): ${message}`, {
        cause: error,
      });
    }
  }
  for (const provisioner of PROVISIONERS) provisioner.afterStack?.(state, context);
}

/** Deletes the rules of an earlier run's system that this run did not provision. */
async function deleteRemovedRules(state: ProvisionState, previous: LocalSystem): Promise<void> {
  const rule = 'AWS::Events::Rule';
  const kept = new Set(state.resources.filter((r) => r.type === rule).map((r) => r.ref));
  for (const resource of previous.resources) {
    if (resource.type === rule && !kept.has(resource.ref)) await deleteRule(state, resource.ref);
  }
}

/**
 * Keeps a resource's resolved properties and values for the authorization model. Properties of resources the
 * runtime only stands in for are resolved too; one that cannot be (an intrinsic the resolver does not know)
 * is kept without properties, and a policy in it then grants nothing locally.
 */
function record(
  state: ProvisionState,
  context: StackContext,
  logicalId: string,
  resource: TemplateResource,
  values: ResourceValues,
  properties: () => unknown,
): void {
  const stackName = context.stack.name;
  let resolved: Props | undefined;
  let metadata: Props = {};
  try {
    resolved = (properties() ?? {}) as Props;
    metadata = (context.resolver.resolve(resource.Metadata ?? {}, logicalId) ?? {}) as Props;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    state.log(`Warning: ${stackName}/${logicalId} (${resource.Type}): properties not resolved: ${reason}`);
  }
  state.resources.push({
    stackName,
    logicalId,
    type: resource.Type,
    properties: resolved ?? {},
    ref: values.ref,
    attributes: values.attributes,
    metadata,
  });
}
