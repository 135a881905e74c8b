/**
 * What the per-service provisioners share during one provisioning run: the emulator's clients, what was
 * created so far (queues by ARN, tables by stream, user pools, functions) and the parts of the LocalSystem
 * being built.
 */
import type { EmulatorClients } from '../aws-clients';
import type { ResourceValues, Template, TemplateResolver, TemplateResource } from '../intrinsics';
import type {
  EmulatorEndpoint,
  LocalFunction,
  LocalGatewayResponse,
  LocalPipe,
  LocalQueueMapping,
  LocalRoute,
  ResolvedResource,
} from '../model';
import type { StackArtifact } from './assembly';

/** Resolved properties of a resource (no intrinsic left). */
export type Props = Record<string, unknown>;

/** A queue the run created or found, by ARN (event source mappings and pipes refer to queues by ARN). */
export interface QueueInfo {
  readonly url: string;
  readonly arn: string;
  readonly visibilityTimeoutSeconds: number;
}

/** A user pool the run created or found, with what the local identity needs of it. */
export interface PoolInfo {
  readonly id: string;
  readonly arn: string;
  readonly preTokenGenerationLambda?: string;
  readonly clients: string[];
  readonly groups: string[];
}

/** A resource that becomes local configuration once its whole stack is resolved (API Gateway). */
export interface LocalEntry {
  readonly logicalId: string;
  readonly type: string;
  readonly props: Props;
}

/** One stack being provisioned. */
export interface StackContext {
  readonly stack: StackArtifact;
  readonly template: Template;
  readonly resolver: TemplateResolver;
  /** Values (`Ref`, `Fn::GetAtt`) of the resources provisioned so far. */
  readonly values: Map<string, ResourceValues>;
  /** Resolved properties of the resources that become local configuration (API Gateway). */
  readonly local: LocalEntry[];
}

/** One resource to provision, its properties resolved. */
export interface ResourceRequest {
  readonly context: StackContext;
  readonly logicalId: string;
  readonly resource: TemplateResource;
  readonly props: Props;
  /** `{stackName}-{logicalId}`: the name given to a resource whose template names none. */
  readonly physicalName: string;
}

/**
 * Creates (or, on a re-run into the same emulator, updates) the resources of some types and returns the values
 * other resources refer to them by.
 */
export interface ResourceProvisioner {
  /** The CloudFormation types it handles. */
  readonly types: readonly string[];
  /** Provisions one resource of one of {@link ResourceProvisioner.types}. */
  provision(state: ProvisionState, request: ResourceRequest): Promise<ResourceValues> | ResourceValues;
  /** Runs once every resource of a stack is provisioned (e.g. to assemble routes). */
  afterStack?(state: ProvisionState, context: StackContext): void;
}

/** Settings of a run, from the provisioning options. */
export interface ProvisionSettings {
  readonly assemblyDir: string;
  readonly emulator: EmulatorEndpoint;
  readonly accountId: string;
  /** Base URL of the local API gateway, without a trailing slash. */
  readonly apiBaseUrl: string;
  readonly requireAssets: boolean;
  readonly log: (line: string) => void;
}

/** The shared state of one provisioning run (a re-run starts a new one: the LocalSystem is built afresh). */
export class ProvisionState {
  /** Local functions by key (`{stackName}/{logicalId}`). */
  readonly functions = new Map<string, LocalFunction>();
  /** Function name → key. */
  readonly functionsByName = new Map<string, string>();
  /** Routes of every REST API, added once each stack is resolved. */
  readonly routes: LocalRoute[] = [];
  /** Gateway responses of every REST API. */
  readonly gatewayResponses: LocalGatewayResponse[] = [];
  /** SQS event source mappings. */
  readonly queueMappings: LocalQueueMapping[] = [];
  /** DynamoDB stream → bus pipes. */
  readonly pipes: LocalPipe[] = [];
  /** Queues by ARN. */
  readonly queuesByArn = new Map<string, QueueInfo>();
  /** Stream ARN → table name. */
  readonly tablesByStreamArn = new Map<string, string>();
  /** User pools by id. */
  readonly pools = new Map<string, PoolInfo>();
  /** Local REST API ids (the service names). */
  readonly restApis = new Set<string>();
  /** Resource types met that are not emulated, with their counts. */
  readonly notEmulated = new Map<string, number>();
  /** Every resource of every stack with its resolved properties (what authorization is evaluated on). */
  readonly resources: ResolvedResource[] = [];

  /**
   * @param settings - the run's settings
   * @param clients - the emulator's SDK clients, open for the whole run
   */
  constructor(
    readonly settings: ProvisionSettings,
    readonly clients: EmulatorClients,
  ) {}

  /** Writes a progress or warning line. */
  log(line: string): void {
    this.settings.log(line);
  }

  /** Counts one resource of a type that is not emulated. */
  countNotEmulated(type: string): void {
    this.notEmulated.set(type, (this.notEmulated.get(type) ?? 0) + 1);
  }

  /** `arn:aws:{service}:{region}:{account}{separator}{resource}` in the emulator's region and account. */
  arn(service: string, resource: string, separator = ':'): string {
    const { emulator, accountId } = this.settings;
    return `arn:aws:${service}:${emulator.region}:${accountId}${separator}${resource}`;
  }

  /** A function's ARN from its name (an ARN is returned as is). */
  functionArn(nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? nameOrArn : this.arn('lambda', `function:${nameOrArn}`, ':');
  }

  /** Key of the function a name, `name:alias`, function ARN or alias ARN designates. */
  functionKey(reference: string, what: string): string {
    const parts = reference.split(':');
    const name = reference.startsWith('arn:') ? parts[6] : parts[0];
    const key = name === undefined ? undefined : this.functionsByName.get(name);
    if (!key) throw new Error(`${what} refers to ${reference}, which is no function of the assembly`);
    return key;
  }
}

/** A property as the JSON text AWS APIs take (strings as they are). */
export function jsonString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** An event bus name from a name or ARN (`arn:aws:events:{region}:{account}:event-bus/{name}`). */
export function busName(nameOrArn: string): string {
  return /:event-bus\/(.+)$/.exec(nameOrArn)?.[1] ?? nameOrArn;
}

/** The properties of `props` named in `keys` that are set. */
export function pick(props: Props, keys: readonly string[]): Props {
  const picked: Props = {};
  for (const key of keys) if (props[key] !== undefined) picked[key] = props[key];
  return picked;
}
