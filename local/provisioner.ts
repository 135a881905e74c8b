import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AttributeDefinition,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { EmulatorError, callAwsJson, emulatorAccountId } from './emulator';
import type { JsonService } from './emulator';
import { TemplateResolver, loadParameters, topologicalOrder } from './intrinsics';
import type { ResourceValues, Template, TemplateResource } from './intrinsics';
import type {
  EmulatorEndpoint,
  LocalFunction,
  LocalGatewayResponse,
  LocalIdentity,
  LocalPipe,
  LocalQueueMapping,
  LocalRoute,
  LocalSystem,
  ResolvedResource,
  RouteAuthorization,
} from './model';

/** Options of {@link provision}. */
export interface ProvisionOptions {
  /** Base URL of the local API gateway, e.g. `http://127.0.0.1:3000`; service APIs live at `{apiBaseUrl}/{service}/`. */
  readonly apiBaseUrl: string;
  /** Receives one progress line per stack and one warning line listing what is not emulated. */
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
}

/** Resource types the provisioner creates in the emulator or turns into local runtime configuration. */
const EMULATED_TYPES = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolResourceServer',
  'AWS::Cognito::UserPoolGroup',
  'AWS::SSM::Parameter',
  'AWS::Lambda::Function',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Model',
  'AWS::ApiGateway::RequestValidator',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGateway::GatewayResponse',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage',
  'AWS::Pipes::Pipe',
]);

/** Resource types whose `Ref` is an ARN (for the stand-in values of types that are not emulated). */
const ARN_REF_TYPES = new Set(['AWS::SNS::Topic', 'AWS::IAM::ManagedPolicy', 'AWS::Lambda::LayerVersion']);

/** Words for the per-stack progress line. */
const PROGRESS_WORDS: Record<string, [string, string]> = {
  'AWS::DynamoDB::Table': ['table', 'tables'],
  'AWS::SQS::Queue': ['queue', 'queues'],
  'AWS::Events::EventBus': ['event bus', 'event buses'],
  'AWS::Events::Rule': ['rule', 'rules'],
  'AWS::Cognito::UserPool': ['user pool', 'user pools'],
  'AWS::Cognito::UserPoolClient': ['user pool client', 'user pool clients'],
  'AWS::Cognito::UserPoolResourceServer': ['resource server', 'resource servers'],
  'AWS::Cognito::UserPoolGroup': ['group', 'groups'],
  'AWS::SSM::Parameter': ['parameter', 'parameters'],
  'AWS::Lambda::Function': ['function', 'functions'],
  'AWS::ApiGateway::Method': ['route', 'routes'],
  'AWS::Lambda::EventSourceMapping': ['queue mapping', 'queue mappings'],
  'AWS::Pipes::Pipe': ['pipe', 'pipes'],
};

interface StackArtifact {
  readonly name: string;
  readonly templateFile: string;
  readonly dependencies: readonly string[];
  readonly assetManifests: readonly string[];
  readonly region?: string;
}

interface QueueInfo {
  readonly url: string;
  readonly arn: string;
  readonly visibilityTimeoutSeconds: number;
}

interface PoolInfo {
  readonly id: string;
  readonly arn: string;
  readonly preTokenGenerationLambda?: string;
  readonly clients: string[];
  readonly groups: string[];
}

type Props = Record<string, unknown>;

/**
 * Creates, in the emulator, what the cloud assembly's stack templates describe (tables, streams, queues with
 * redrive, event bus and rules, user pool, client, scopes and groups, registry parameters), stack after stack
 * in dependency order, and returns what the local runtime needs to serve routes, run functions, poll queues
 * and drive the outbox pipes. Types it does not emulate are listed in `notEmulated` and in one warning line.
 */
export async function provision(
  assemblyDir: string,
  emulator: EmulatorEndpoint,
  options: ProvisionOptions,
): Promise<LocalSystem> {
  const provisioner = new Provisioner(assemblyDir, emulator, options);
  return provisioner.run();
}

class Provisioner {
  private readonly log: (line: string) => void;
  private readonly apiBaseUrl: string;
  private readonly requireAssets: boolean;
  private readonly enforcedTypes: ReadonlySet<string>;
  private readonly dynamo: DynamoDBClient;
  private accountId = '';

  private readonly functions = new Map<string, LocalFunction>();
  /** Function name → key. */
  private readonly functionsByName = new Map<string, string>();
  private readonly routes: LocalRoute[] = [];
  private readonly gatewayResponses: LocalGatewayResponse[] = [];
  private readonly queueMappings: LocalQueueMapping[] = [];
  private readonly pipes: LocalPipe[] = [];
  private readonly queuesByArn = new Map<string, QueueInfo>();
  private readonly tablesByStreamArn = new Map<string, string>();
  private readonly pools = new Map<string, PoolInfo>();
  /** Local REST API ids (the service names). */
  private readonly restApis = new Set<string>();
  private readonly notEmulated = new Map<string, number>();
  /** Every resource of every stack with its resolved properties (what authorization is evaluated on). */
  private readonly resources: ResolvedResource[] = [];

  constructor(
    private readonly assemblyDir: string,
    private readonly emulator: EmulatorEndpoint,
    options: ProvisionOptions,
  ) {
    this.log = options.log ?? (() => undefined);
    this.apiBaseUrl = options.apiBaseUrl.replace(/\/+$/, '');
    this.requireAssets = options.requireAssets ?? true;
    this.enforcedTypes = options.enforcedTypes ?? new Set();
    this.dynamo = new DynamoDBClient({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    });
  }

  async run(): Promise<LocalSystem> {
    try {
      this.accountId = await emulatorAccountId(this.emulator);
      for (const stack of this.stacks()) await this.provisionStack(stack);
    } finally {
      this.dynamo.destroy();
    }
    const notEmulated = [...this.notEmulated]
      .map(([type, count]) => ({ type, count }))
      .sort((a, b) => a.type.localeCompare(b.type));
    const unused = notEmulated.filter((e) => !this.enforcedTypes.has(e.type));
    if (unused.length > 0) {
      this.log(
        `Warning: not emulated locally (no effect offline): ${unused.map((e) => `${e.type} x${e.count}`).join(', ')}`,
      );
    }
    return {
      emulator: this.emulator,
      functions: this.functions,
      routes: this.routes,
      gatewayResponses: this.gatewayResponses,
      queueMappings: this.queueMappings,
      pipes: this.pipes,
      identity: this.identity(),
      notEmulated,
      resources: this.resources,
      accountId: this.accountId,
    };
  }

  /** Stack artifacts of the assembly, dependencies first (manifest order otherwise). */
  private stacks(): StackArtifact[] {
    const manifest = JSON.parse(readFileSync(join(this.assemblyDir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<
        string,
        {
          type: string;
          environment?: string;
          dependencies?: string[];
          properties?: { templateFile?: string; file?: string };
        }
      >;
    };
    const artifacts = manifest.artifacts ?? {};
    const stacks = new Map<string, StackArtifact>();
    for (const [name, artifact] of Object.entries(artifacts)) {
      if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
      const dependencies = artifact.dependencies ?? [];
      stacks.set(name, {
        name,
        templateFile: artifact.properties.templateFile,
        dependencies: dependencies.filter((d) => artifacts[d]?.type === 'aws:cloudformation:stack'),
        assetManifests: dependencies
          .map((d) => artifacts[d])
          .filter((d) => d?.type === 'cdk:asset-manifest' && d.properties?.file)
          .map((d) => d.properties?.file as string),
        // An environment-agnostic stack (`aws://unknown-account/unknown-region`) deploys to the emulator's region.
        region:
          /^aws:\/\/[^/]+\/([a-z0-9-]+)$/
            .exec(artifact.environment ?? '')?.[1]
            ?.replace(/^unknown-region$/, '') || undefined,
      });
    }
    const ordered: StackArtifact[] = [];
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const stack = stacks.get(name);
      if (!stack) return;
      for (const dependency of stack.dependencies) visit(dependency);
      ordered.push(stack);
    };
    for (const name of stacks.keys()) visit(name);
    return ordered;
  }

  private async provisionStack(stack: StackArtifact): Promise<void> {
    const template = JSON.parse(readFileSync(join(this.assemblyDir, stack.templateFile), 'utf8')) as Template;
    const counts = new Map<string, number>();
    for (const resource of Object.values(template.Resources)) {
      counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
    }
    const summary = Object.entries(PROGRESS_WORDS)
      .filter(([type]) => counts.has(type))
      .map(([type, [one, many]]) => {
        const count = counts.get(type) ?? 0;
        return `${count} ${count === 1 ? one : many}`;
      });
    this.log(`Provisioning ${stack.name}: ${summary.length ? summary.join(', ') : 'nothing to emulate'}`);

    const parameters = await loadParameters(template, (name) => this.readParameter(name, stack.name));
    const values = new Map<string, ResourceValues>();
    const resolver = new TemplateResolver(template, {
      stackName: stack.name,
      region: stack.region ?? this.emulator.region,
      accountId: this.accountId,
      parameters,
      resource: (id) => values.get(id),
      rewrite: (value) => this.localApiUrl(value),
    });
    const context: StackContext = { stack, template, resolver, values, local: [] };
    for (const logicalId of topologicalOrder(template)) {
      const resource = template.Resources[logicalId];
      if (resource.Condition && !resolver.condition(resource.Condition)) continue;
      if (!EMULATED_TYPES.has(resource.Type)) {
        this.notEmulated.set(resource.Type, (this.notEmulated.get(resource.Type) ?? 0) + 1);
        const standIn = this.standIn(resource.Type, stack.name, logicalId);
        values.set(logicalId, standIn);
        this.record(stack.name, logicalId, resource, standIn, resolver, () =>
          resolver.resolve(resource.Properties ?? {}, logicalId),
        );
        continue;
      }
      const properties = (resolver.resolve(resource.Properties ?? {}, logicalId) ?? {}) as Props;
      try {
        const created = await this.create(context, logicalId, resource, properties);
        values.set(logicalId, created);
        this.record(stack.name, logicalId, resource, created, resolver, () => properties);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`${stack.name}: cannot provision ${logicalId} (${resource.Type}): ${message}`, {
          cause: error,
        });
      }
    }
    this.collectApis(context);
  }

  private async create(
    context: StackContext,
    logicalId: string,
    resource: TemplateResource,
    props: Props,
  ): Promise<ResourceValues> {
    const { stack } = context;
    const physicalName = `${stack.name}-${logicalId}`;
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        return this.createTable(props, physicalName);
      case 'AWS::SQS::Queue':
        return this.createQueue(props, physicalName);
      case 'AWS::Events::EventBus':
        return this.createEventBus(props);
      case 'AWS::Events::Rule':
        return this.createRule(props, physicalName);
      case 'AWS::Cognito::UserPool':
        return this.createUserPool(props, physicalName);
      case 'AWS::Cognito::UserPoolClient':
        return this.createUserPoolClient(props, physicalName);
      case 'AWS::Cognito::UserPoolResourceServer':
        return this.createResourceServer(props);
      case 'AWS::Cognito::UserPoolGroup':
        return this.createGroup(props, logicalId);
      case 'AWS::SSM::Parameter':
        return this.putParameter(props, physicalName);
      case 'AWS::Lambda::Function':
        return this.localFunction(context, logicalId, resource, props, physicalName);
      case 'AWS::Lambda::Version': {
        const functionArn = this.functionArn(String(props.FunctionName));
        return { ref: `${functionArn}:1`, attributes: { Version: '1', FunctionArn: functionArn } };
      }
      case 'AWS::Lambda::Alias': {
        const functionArn = this.functionArn(String(props.FunctionName));
        return { ref: `${functionArn}:${String(props.Name)}`, attributes: {} };
      }
      case 'AWS::ApiGateway::RestApi': {
        const service = serviceOfApi(String(props.Name ?? logicalId));
        this.restApis.add(service);
        return { ref: service, attributes: { RootResourceId: `${service}/`, RestApiId: service } };
      }
      case 'AWS::ApiGateway::Stage':
        context.local.push({ logicalId, type: resource.Type, props });
        return { ref: String(props.StageName), attributes: {} };
      case 'AWS::ApiGateway::Model':
        context.local.push({ logicalId, type: resource.Type, props });
        return { ref: String(props.Name ?? logicalId), attributes: {} };
      case 'AWS::ApiGateway::Resource':
      case 'AWS::ApiGateway::Method':
      case 'AWS::ApiGateway::RequestValidator':
      case 'AWS::ApiGateway::Authorizer':
      case 'AWS::ApiGateway::GatewayResponse':
      case 'AWS::ApiGateway::Deployment':
        context.local.push({ logicalId, type: resource.Type, props });
        return {
          ref: `${stack.name}/${logicalId}`,
          attributes: { ResourceId: `${stack.name}/${logicalId}` },
        };
      case 'AWS::Lambda::EventSourceMapping':
        this.queueMapping(props, physicalName);
        return { ref: physicalName, attributes: { Id: physicalName } };
      case 'AWS::Pipes::Pipe':
        this.pipe(props, physicalName);
        return {
          ref: String(props.Name ?? physicalName),
          attributes: { Arn: this.arn('pipes', `pipe/${physicalName}`) },
        };
      default:
        throw new Error(`no handler for ${resource.Type}`);
    }
  }

  // ---------------------------------------------------------------------------------------------- DynamoDB

  private async createTable(props: Props, physicalName: string): Promise<ResourceValues> {
    const name = String(props.TableName ?? physicalName);
    const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
    const billing = String(props.BillingMode ?? 'PROVISIONED');
    const throughput = (value: unknown) =>
      billing === 'PAY_PER_REQUEST'
        ? undefined
        : ((value as { ReadCapacityUnits: number; WriteCapacityUnits: number } | undefined) ?? {
            ReadCapacityUnits: 5,
            WriteCapacityUnits: 5,
          });
    const gsis = (props.GlobalSecondaryIndexes as Props[] | undefined)?.map(
      (index): GlobalSecondaryIndex => ({
        IndexName: String(index.IndexName),
        KeySchema: index.KeySchema as KeySchemaElement[],
        Projection: index.Projection as GlobalSecondaryIndex['Projection'],
        ProvisionedThroughput: throughput(index.ProvisionedThroughput),
      }),
    );
    const lsis = (props.LocalSecondaryIndexes as Props[] | undefined)?.map((index): LocalSecondaryIndex => ({
      IndexName: String(index.IndexName),
      KeySchema: index.KeySchema as KeySchemaElement[],
      Projection: index.Projection as LocalSecondaryIndex['Projection'],
    }));
    let table: TableDescription | undefined;
    try {
      const created = await this.dynamo.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: props.AttributeDefinitions as AttributeDefinition[],
          KeySchema: props.KeySchema as KeySchemaElement[],
          BillingMode: billing === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
          ProvisionedThroughput: throughput(props.ProvisionedThroughput),
          GlobalSecondaryIndexes: gsis,
          LocalSecondaryIndexes: lsis,
          StreamSpecification: stream?.StreamViewType
            ? { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_IMAGE' }
            : undefined,
          // SSE with a customer KMS key, point-in-time recovery, deletion protection and tags have no effect offline.
        }),
      );
      table = created.TableDescription;
    } catch (error) {
      // An external emulator that outlived an earlier run: reuse the table.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    table = await this.waitForTable(name);
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      try {
        await this.dynamo.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      } catch (error) {
        // Already enabled (an external emulator that outlived an earlier run).
        if (!/already enabled/i.test(String((error as Error).message))) throw error;
      }
    }
    if (table.LatestStreamArn) this.tablesByStreamArn.set(table.LatestStreamArn, name);
    return {
      ref: name,
      attributes: {
        Arn: table.TableArn ?? this.arn('dynamodb', `table/${name}`),
        ...(table.LatestStreamArn ? { StreamArn: table.LatestStreamArn } : {}),
      },
    };
  }

  private async waitForTable(name: string): Promise<TableDescription> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { Table } = await this.dynamo.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return Table;
      if (Date.now() > deadline) throw new Error(`table ${name} is still ${Table?.TableStatus}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---------------------------------------------------------------------------------------------- SQS

  private async createQueue(props: Props, physicalName: string): Promise<ResourceValues> {
    const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
    const name = String(
      props.QueueName ?? (fifo ? `${physicalName.slice(0, 75)}.fifo` : physicalName.slice(0, 80)),
    );
    const attributes: Record<string, string> = {};
    for (const key of [
      'VisibilityTimeout',
      'MessageRetentionPeriod',
      'DelaySeconds',
      'MaximumMessageSize',
      'ReceiveMessageWaitTimeSeconds',
      'FifoQueue',
      'ContentBasedDeduplication',
      'DeduplicationScope',
      'FifoThroughputLimit',
    ]) {
      if (props[key] !== undefined) attributes[key] = String(props[key]);
    }
    // KmsMasterKeyId / SqsManagedSseEnabled: encryption has no effect offline.
    if (props.RedrivePolicy !== undefined) attributes.RedrivePolicy = jsonString(props.RedrivePolicy);
    if (props.RedriveAllowPolicy !== undefined)
      attributes.RedriveAllowPolicy = jsonString(props.RedriveAllowPolicy);
    const { QueueUrl } = await this.call<{ QueueUrl: string }>('sqs', 'CreateQueue', {
      QueueName: name,
      Attributes: attributes,
    });
    const { Attributes } = await this.call<{ Attributes: Record<string, string> }>(
      'sqs',
      'GetQueueAttributes',
      {
        QueueUrl,
        AttributeNames: ['QueueArn', 'VisibilityTimeout'],
      },
    );
    const info: QueueInfo = {
      url: QueueUrl,
      arn: Attributes.QueueArn,
      visibilityTimeoutSeconds: Number(Attributes.VisibilityTimeout ?? 30),
    };
    this.queuesByArn.set(info.arn, info);
    return { ref: QueueUrl, attributes: { Arn: info.arn, QueueName: name, QueueUrl } };
  }

  // ---------------------------------------------------------------------------------------------- EventBridge

  private async createEventBus(props: Props): Promise<ResourceValues> {
    const name = String(props.Name);
    let arn: string;
    try {
      ({ EventBusArn: arn } = await this.call<{ EventBusArn: string }>('events', 'CreateEventBus', {
        Name: name,
        ...(props.Description ? { Description: props.Description } : {}),
      }));
    } catch (error) {
      if (!(error instanceof EmulatorError && error.code === 'ResourceAlreadyExistsException')) throw error;
      ({ Arn: arn } = await this.call<{ Arn: string }>('events', 'DescribeEventBus', { Name: name }));
    }
    return { ref: name, attributes: { Arn: arn, Name: name } };
  }

  private async createRule(props: Props, physicalName: string): Promise<ResourceValues> {
    const name = String(props.Name ?? physicalName.slice(0, 64));
    const eventBusName = busName(String(props.EventBusName ?? 'default'));
    const { RuleArn } = await this.call<{ RuleArn: string }>('events', 'PutRule', {
      Name: name,
      EventBusName: eventBusName,
      ...(props.EventPattern !== undefined ? { EventPattern: jsonString(props.EventPattern) } : {}),
      ...(props.ScheduleExpression !== undefined ? { ScheduleExpression: props.ScheduleExpression } : {}),
      ...(props.Description !== undefined ? { Description: props.Description } : {}),
      State: String(props.State ?? 'ENABLED'),
    });
    const targets = ((props.Targets as Props[] | undefined) ?? []).map((target) => {
      const transformer = target.InputTransformer as Props | undefined;
      return {
        Id: target.Id,
        Arn: target.Arn,
        ...(target.Input !== undefined ? { Input: target.Input } : {}),
        ...(target.InputPath !== undefined ? { InputPath: target.InputPath } : {}),
        ...(transformer
          ? {
              InputTransformer: {
                InputTemplate: transformer.InputTemplate,
                ...(transformer.InputPathsMap ? { InputPathsMap: transformer.InputPathsMap } : {}),
              },
            }
          : {}),
        ...(target.DeadLetterConfig !== undefined ? { DeadLetterConfig: target.DeadLetterConfig } : {}),
        ...(target.RetryPolicy !== undefined ? { RetryPolicy: target.RetryPolicy } : {}),
        ...(target.SqsParameters !== undefined ? { SqsParameters: target.SqsParameters } : {}),
      };
    });
    if (targets.length > 0) {
      const { FailedEntryCount, FailedEntries } = await this.call<{
        FailedEntryCount?: number;
        FailedEntries?: unknown[];
      }>('events', 'PutTargets', { Rule: name, EventBusName: eventBusName, Targets: targets });
      if (FailedEntryCount) throw new Error(`PutTargets failed: ${JSON.stringify(FailedEntries)}`);
    }
    const ref = eventBusName === 'default' ? name : `${eventBusName}|${name}`;
    return { ref, attributes: { Arn: RuleArn } };
  }

  // ---------------------------------------------------------------------------------------------- Cognito

  private async createUserPool(props: Props, physicalName: string): Promise<ResourceValues> {
    const input: Props = { PoolName: String(props.UserPoolName ?? physicalName) };
    for (const key of [
      'Policies',
      'UsernameAttributes',
      'AliasAttributes',
      'AutoVerifiedAttributes',
      'MfaConfiguration',
      'AccountRecoverySetting',
      'AdminCreateUserConfig',
      'VerificationMessageTemplate',
      'EmailVerificationMessage',
      'EmailVerificationSubject',
      'SmsVerificationMessage',
      'UsernameConfiguration',
      'UserPoolTags',
      'DeletionProtection',
    ]) {
      if (props[key] !== undefined) input[key] = props[key];
    }
    // LambdaConfig is not given to the emulator (it runs no triggers): the runtime runs the pre-token trigger.
    const schema = (props.Schema as Props[] | undefined)?.map((attribute) => ({
      Name: attribute.Name,
      AttributeDataType: attribute.AttributeDataType ?? 'String',
      ...(attribute.Mutable !== undefined ? { Mutable: attribute.Mutable } : {}),
      ...(attribute.Required !== undefined ? { Required: attribute.Required } : {}),
      ...(attribute.DeveloperOnlyAttribute !== undefined
        ? { DeveloperOnlyAttribute: attribute.DeveloperOnlyAttribute }
        : {}),
      ...(attribute.StringAttributeConstraints
        ? { StringAttributeConstraints: attribute.StringAttributeConstraints }
        : {}),
      ...(attribute.NumberAttributeConstraints
        ? { NumberAttributeConstraints: attribute.NumberAttributeConstraints }
        : {}),
    }));
    if (schema) input.Schema = schema;
    const { UserPool } = await this.call<{ UserPool: { Id: string; Arn?: string } }>(
      'cognito-idp',
      'CreateUserPool',
      input,
    );
    const arn = UserPool.Arn ?? this.arn('cognito-idp', `userpool/${UserPool.Id}`);
    const lambdaConfig = props.LambdaConfig as
      { PreTokenGenerationConfig?: { LambdaArn?: string }; PreTokenGeneration?: string } | undefined;
    this.pools.set(UserPool.Id, {
      id: UserPool.Id,
      arn,
      preTokenGenerationLambda:
        lambdaConfig?.PreTokenGenerationConfig?.LambdaArn ?? lambdaConfig?.PreTokenGeneration,
      clients: [],
      groups: [],
    });
    const providerName = `cognito-idp.${this.emulator.region}.amazonaws.com/${UserPool.Id}`;
    return {
      ref: UserPool.Id,
      attributes: {
        Arn: arn,
        UserPoolId: UserPool.Id,
        ProviderName: providerName,
        ProviderURL: `https://${providerName}`,
      },
    };
  }

  private async createUserPoolClient(props: Props, physicalName: string): Promise<ResourceValues> {
    const input: Props = {
      UserPoolId: props.UserPoolId,
      ClientName: String(props.ClientName ?? physicalName),
      GenerateSecret: props.GenerateSecret === true,
    };
    for (const key of [
      'ExplicitAuthFlows',
      'AccessTokenValidity',
      'IdTokenValidity',
      'RefreshTokenValidity',
      'TokenValidityUnits',
      'PreventUserExistenceErrors',
      'SupportedIdentityProviders',
      'EnableTokenRevocation',
      'AllowedOAuthFlows',
      'AllowedOAuthScopes',
      'AllowedOAuthFlowsUserPoolClient',
      'CallbackURLs',
      'LogoutURLs',
      'ReadAttributes',
      'WriteAttributes',
    ]) {
      if (props[key] !== undefined) input[key] = props[key];
    }
    const { UserPoolClient } = await this.call<{
      UserPoolClient: { ClientId: string; ClientSecret?: string };
    }>('cognito-idp', 'CreateUserPoolClient', input);
    this.pools.get(String(props.UserPoolId))?.clients.push(UserPoolClient.ClientId);
    return {
      ref: UserPoolClient.ClientId,
      attributes: {
        ClientId: UserPoolClient.ClientId,
        ...(UserPoolClient.ClientSecret ? { ClientSecret: UserPoolClient.ClientSecret } : {}),
        Name: input.ClientName,
      },
    };
  }

  private async createResourceServer(props: Props): Promise<ResourceValues> {
    const identifier = String(props.Identifier);
    await this.call('cognito-idp', 'CreateResourceServer', {
      UserPoolId: props.UserPoolId,
      Identifier: identifier,
      Name: props.Name,
      ...(props.Scopes ? { Scopes: props.Scopes } : {}),
    });
    return { ref: identifier, attributes: {} };
  }

  private async createGroup(props: Props, logicalId: string): Promise<ResourceValues> {
    const name = String(props.GroupName ?? logicalId);
    await this.call('cognito-idp', 'CreateGroup', {
      UserPoolId: props.UserPoolId,
      GroupName: name,
      ...(props.Description !== undefined ? { Description: props.Description } : {}),
      ...(props.Precedence !== undefined ? { Precedence: Number(props.Precedence) } : {}),
      ...(props.RoleArn !== undefined ? { RoleArn: props.RoleArn } : {}),
    });
    this.pools.get(String(props.UserPoolId))?.groups.push(name);
    return { ref: name, attributes: {} };
  }

  // ---------------------------------------------------------------------------------------------- SSM

  private async putParameter(props: Props, physicalName: string): Promise<ResourceValues> {
    const name = String(props.Name ?? `/${physicalName}`);
    const type = String(props.Type ?? 'String');
    const value = Array.isArray(props.Value) ? props.Value.join(',') : String(props.Value);
    await this.call('ssm', 'PutParameter', {
      Name: name,
      Value: value,
      Type: type,
      Overwrite: true,
      ...(props.Description !== undefined ? { Description: props.Description } : {}),
      ...(props.AllowedPattern !== undefined ? { AllowedPattern: props.AllowedPattern } : {}),
    });
    return { ref: name, attributes: { Type: type, Value: value } };
  }

  private async readParameter(name: string, stackName: string): Promise<string> {
    try {
      const { Parameter } = await this.call<{ Parameter: { Value: string } }>('ssm', 'GetParameter', {
        Name: name,
      });
      return Parameter.Value;
    } catch (error) {
      if (error instanceof EmulatorError && error.code === 'ParameterNotFound') {
        throw new Error(
          `${stackName} reads SSM parameter ${name}, which no stack provisioned before it has written ` +
            '(is the stack that writes it missing from the assembly, or not a dependency?)',
          { cause: error },
        );
      }
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------- Lambda

  private localFunction(
    context: StackContext,
    logicalId: string,
    resource: TemplateResource,
    props: Props,
    physicalName: string,
  ): ResourceValues {
    const { stack } = context;
    const name = String(props.FunctionName ?? physicalName);
    const key = `${stack.name}/${logicalId}`;
    const code = (props.Code ?? {}) as { S3Key?: string; ZipFile?: string };
    const assetDir =
      this.assetDir(stack, code.S3Key, resource.Metadata?.['aws:asset:path']) ??
      (this.requireAssets ? undefined : '');
    if (assetDir === undefined) {
      throw new Error(
        `function ${key} has no bundled asset (S3Key ${code.S3Key ?? '-'}${code.ZipFile ? ', inline code' : ''}); ` +
          'the local runtime runs bundled assets only',
      );
    }
    const variables = ((props.Environment as { Variables?: Props } | undefined)?.Variables ?? {}) as Props;
    const environment: Record<string, string> = {};
    for (const [variable, value] of Object.entries(variables)) {
      environment[variable] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    this.functions.set(key, {
      key,
      name,
      stackName: stack.name,
      logicalId,
      description: String(props.Description ?? ''),
      assetDir,
      handler: String(props.Handler ?? 'index.handler'),
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryMb: Number(props.MemorySize ?? 128),
      environment,
      ...(typeof props.Role === 'string' ? { roleArn: props.Role } : {}),
    });
    this.functionsByName.set(name, key);
    return { ref: name, attributes: { Arn: this.functionArn(name) } };
  }

  private assetDir(
    stack: StackArtifact,
    s3Key: string | undefined,
    metadataPath: unknown,
  ): string | undefined {
    if (typeof metadataPath === 'string') return join(this.assemblyDir, metadataPath);
    if (!s3Key) return undefined;
    for (const file of stack.assetManifests) {
      const manifest = JSON.parse(readFileSync(join(this.assemblyDir, file), 'utf8')) as {
        files?: Record<
          string,
          { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
        >;
      };
      for (const asset of Object.values(manifest.files ?? {})) {
        const published = Object.values(asset.destinations ?? {}).some((d) => d.objectKey === s3Key);
        if (published && asset.source?.path) return join(this.assemblyDir, asset.source.path);
      }
    }
    const hash = /^([0-9a-f]{64})\.zip$/.exec(s3Key)?.[1];
    return hash ? join(this.assemblyDir, `asset.${hash}`) : undefined;
  }

  private functionArn(nameOrArn: string): string {
    return nameOrArn.startsWith('arn:') ? nameOrArn : this.arn('lambda', `function:${nameOrArn}`, ':');
  }

  /** Key of the function a name, `name:alias`, function ARN or alias ARN designates. */
  private functionKey(reference: string, what: string): string {
    const parts = reference.split(':');
    const name = reference.startsWith('arn:') ? parts[6] : parts[0];
    const key = name === undefined ? undefined : this.functionsByName.get(name);
    if (!key) throw new Error(`${what} refers to ${reference}, which is no function of the assembly`);
    return key;
  }

  private queueMapping(props: Props, physicalName: string): void {
    const sourceArn = String(props.EventSourceArn);
    const queue = this.queuesByArn.get(sourceArn);
    if (!queue) {
      this.log(`Warning: ${physicalName}: event source ${sourceArn} is not an SQS queue; not emulated`);
      this.notEmulated.set(
        'AWS::Lambda::EventSourceMapping (non-SQS)',
        (this.notEmulated.get('AWS::Lambda::EventSourceMapping (non-SQS)') ?? 0) + 1,
      );
      return;
    }
    const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
    const responseTypes = (props.FunctionResponseTypes as string[] | undefined) ?? [];
    this.queueMappings.push({
      queueUrl: queue.url,
      queueArn: queue.arn,
      functionKey: this.functionKey(String(props.FunctionName), physicalName),
      batchSize: Number(props.BatchSize ?? 10),
      reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      ...(scaling?.MaximumConcurrency !== undefined
        ? { maxConcurrency: Number(scaling.MaximumConcurrency) }
        : {}),
      visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
    });
  }

  // ---------------------------------------------------------------------------------------------- Pipes

  private pipe(props: Props, physicalName: string): void {
    const streamArn = String(props.Source);
    const tableName =
      this.tablesByStreamArn.get(streamArn) ?? /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
    if (!tableName) throw new Error(`pipe source ${streamArn} is not a DynamoDB stream of the assembly`);
    const target = String(props.Target);
    if (!/:event-bus\//.test(target)) throw new Error(`pipe target ${target} is not an event bus`);
    const source = ((props.SourceParameters as Props | undefined) ?? {}) as {
      DynamoDBStreamParameters?: {
        BatchSize?: number;
        MaximumRetryAttempts?: number;
        DeadLetterConfig?: { Arn?: string };
      };
      FilterCriteria?: { Filters?: { Pattern?: string }[] };
    };
    const stream = source.DynamoDBStreamParameters ?? {};
    const targetParameters = ((props.TargetParameters as Props | undefined) ?? {}) as {
      EventBridgeEventBusParameters?: { Source?: string; DetailType?: string };
      InputTemplate?: string;
    };
    const dlqArn = stream.DeadLetterConfig?.Arn;
    const dlq = dlqArn ? this.queuesByArn.get(dlqArn) : undefined;
    if (dlqArn && !dlq) throw new Error(`pipe dead-letter queue ${dlqArn} is not a queue of the assembly`);
    this.pipes.push({
      name: String(props.Name ?? physicalName),
      tableName,
      streamArn,
      filterPatterns: (source.FilterCriteria?.Filters ?? [])
        .filter((filter) => filter.Pattern !== undefined)
        .map((filter) => JSON.parse(String(filter.Pattern)) as Record<string, unknown>),
      eventBusName: busName(target),
      source: targetParameters.EventBridgeEventBusParameters?.Source ?? '',
      detailType: targetParameters.EventBridgeEventBusParameters?.DetailType ?? '',
      ...(targetParameters.InputTemplate !== undefined
        ? { inputTemplate: targetParameters.InputTemplate }
        : {}),
      batchSize: Number(stream.BatchSize ?? 1),
      maximumRetryAttempts: Number(stream.MaximumRetryAttempts ?? -1),
      ...(dlq ? { deadLetterQueueUrl: dlq.url } : {}),
    });
  }

  // ---------------------------------------------------------------------------------------------- API Gateway

  /** Routes and gateway responses of the stack's REST APIs (once the whole stack is resolved). */
  private collectApis(context: StackContext): void {
    const byType = (type: string) => context.local.filter((entry) => entry.type === type);
    const refOf = (logicalId: string) => context.values.get(logicalId)?.ref ?? '';
    const byRef = (type: string) =>
      new Map(byType(type).map((entry) => [refOf(entry.logicalId), entry.props]));
    const resources = byRef('AWS::ApiGateway::Resource');
    const authorizers = byRef('AWS::ApiGateway::Authorizer');
    const validators = byRef('AWS::ApiGateway::RequestValidator');
    const models = new Map(
      byType('AWS::ApiGateway::Model').map((entry) => [
        `${String(entry.props.RestApiId)}/${refOf(entry.logicalId)}`,
        entry.props,
      ]),
    );
    const stages = new Map<string, string>();
    for (const { props } of byType('AWS::ApiGateway::Deployment')) {
      if (props.StageName) stages.set(String(props.RestApiId), String(props.StageName));
    }
    for (const { props } of byType('AWS::ApiGateway::Stage'))
      stages.set(String(props.RestApiId), String(props.StageName));

    const pathOf = (resourceId: string, guard = 0): string => {
      const resource = resources.get(resourceId);
      if (!resource) return ''; // the root resource
      if (guard > 50) throw new Error(`resource path of ${resourceId} loops`);
      return `${pathOf(String(resource.ParentId), guard + 1)}/${String(resource.PathPart)}`;
    };

    for (const { logicalId, props } of byType('AWS::ApiGateway::Method')) {
      const service = String(props.RestApiId);
      const integration = (props.Integration ?? {}) as { Type?: string; Uri?: string };
      if (integration.Type !== 'AWS_PROXY' || !integration.Uri) {
        throw new Error(
          `${context.stack.name}: method ${logicalId} has a ${integration.Type ?? 'missing'} integration; ` +
            'the local gateway emulates Lambda proxy integrations only',
        );
      }
      const target = /\/functions\/(.+)\/invocations$/.exec(integration.Uri)?.[1];
      if (!target)
        throw new Error(`${context.stack.name}: method ${logicalId} has no Lambda in ${integration.Uri}`);
      const modelRef = (props.RequestModels as Record<string, string> | undefined)?.['application/json'];
      const schema = modelRef ? models.get(`${service}/${modelRef}`)?.Schema : undefined;
      const validator = props.RequestValidatorId
        ? validators.get(String(props.RequestValidatorId))
        : undefined;
      this.routes.push({
        service,
        method: String(props.HttpMethod).toUpperCase(),
        resourcePath: pathOf(String(props.ResourceId)) || '/',
        authorization: this.authorization(props, authorizers, `${context.stack.name}/${logicalId}`),
        functionKey: this.functionKey(target, `${context.stack.name}/${logicalId}`),
        invokedArn: this.functionArn(target),
        requiredParameters: Object.entries(
          (props.RequestParameters as Record<string, unknown> | undefined) ?? {},
        )
          .filter(([, required]) => required === true || required === 'true')
          .map(([name]) => name),
        ...(schema ? { requestSchema: schema as Record<string, unknown> } : {}),
        validateBody: validator?.ValidateRequestBody === true || validator?.ValidateRequestBody === 'true',
        stage: stages.get(service) ?? 'prod',
      });
    }

    for (const { props } of byType('AWS::ApiGateway::GatewayResponse')) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(
        (props.ResponseParameters as Record<string, string> | undefined) ?? {},
      )) {
        const header = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
        if (header) headers[header] = String(value).replace(/^'(.*)'$/, '$1');
      }
      const template = (props.ResponseTemplates as Record<string, string> | undefined)?.['application/json'];
      this.gatewayResponses.push({
        service: String(props.RestApiId),
        type: String(props.ResponseType),
        ...(props.StatusCode !== undefined ? { statusCode: Number(props.StatusCode) } : {}),
        headers,
        ...(template !== undefined ? { template } : {}),
      });
    }
  }

  private authorization(props: Props, authorizers: Map<string, Props>, where: string): RouteAuthorization {
    const type = String(props.AuthorizationType ?? 'NONE');
    if (type === 'NONE' || type === 'AWS_IAM') return { type };
    if (type !== 'COGNITO_USER_POOLS') {
      throw new Error(
        `${where}: authorization ${type} is not emulated (NONE, AWS_IAM, COGNITO_USER_POOLS are)`,
      );
    }
    const authorizer = authorizers.get(String(props.AuthorizerId));
    const providerArn = (authorizer?.ProviderARNs as string[] | undefined)?.[0];
    const userPoolId = providerArn ? /userpool\/(.+)$/.exec(providerArn)?.[1] : undefined;
    if (!userPoolId) throw new Error(`${where}: Cognito authorizer without a user pool ARN (${providerArn})`);
    return {
      type,
      userPoolId,
      scopes: ((props.AuthorizationScopes as unknown[] | undefined) ?? []).map(String),
    };
  }

  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...` of a local API → `{apiBaseUrl}/{service}/...`. */
  private localApiUrl(value: string): string {
    const match = /^https:\/\/([^./]+)\.execute-api\.[^./]+\.amazonaws\.com(?:\.cn)?\/[^/]+\/(.*)$/.exec(
      value,
    );
    if (!match || !this.restApis.has(match[1])) return value;
    return `${this.apiBaseUrl}/${match[1]}/${match[2]}`;
  }

  // ---------------------------------------------------------------------------------------------- Identity

  private identity(): LocalIdentity | undefined {
    const [pool] = this.pools.values();
    if (!pool) return undefined;
    if (this.pools.size > 1)
      this.log(`Warning: ${this.pools.size} user pools; the local identity uses ${pool.id}`);
    const [client] = pool.clients;
    if (!client)
      throw new Error(`user pool ${pool.id} has no client the local runtime could sign users in with`);
    return {
      userPoolId: pool.id,
      userPoolClientId: client,
      ...(pool.preTokenGenerationLambda
        ? {
            preTokenGenerationFunctionKey: this.functionKey(
              pool.preTokenGenerationLambda,
              `user pool ${pool.id}`,
            ),
          }
        : {}),
      groups: pool.groups,
    };
  }

  // ---------------------------------------------------------------------------------------------- helpers

  private call<T = Record<string, unknown>>(service: JsonService, action: string, input: object): Promise<T> {
    return callAwsJson<T>(this.emulator, service, action, input);
  }

  private arn(service: string, resource: string, separator = ':'): string {
    return `arn:aws:${service}:${this.emulator.region}:${this.accountId}${separator}${resource}`;
  }

  /**
   * Keeps a resource's resolved properties and values for the authorization model. Properties of resources the
   * runtime only stands in for are resolved too; one that cannot be (an intrinsic the resolver does not know)
   * is kept without properties, and a policy in it then grants nothing locally.
   */
  private record(
    stackName: string,
    logicalId: string,
    resource: TemplateResource,
    values: ResourceValues,
    resolver: TemplateResolver,
    properties: () => unknown,
  ): void {
    let resolved: Props | undefined;
    let metadata: Props = {};
    try {
      resolved = (properties() ?? {}) as Props;
      metadata = (resolver.resolve(resource.Metadata ?? {}, logicalId) ?? {}) as Props;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log(`Warning: ${stackName}/${logicalId} (${resource.Type}): properties not resolved: ${reason}`);
    }
    this.resources.push({
      stackName,
      logicalId,
      type: resource.Type,
      properties: resolved ?? {},
      ref: values.ref,
      attributes: values.attributes,
      metadata,
    });
  }

  /** Values for a resource the runtime does not emulate, so that what refers to it still resolves. */
  private standIn(type: string, stackName: string, logicalId: string): ResourceValues {
    const [, service = 'local', kind = 'resource'] = type.split('::');
    const name = `${stackName}-${logicalId}`;
    const arn =
      standInArn(type, name, this.emulator.region, this.accountId) ??
      this.arn(service.toLowerCase(), `${kind.toLowerCase()}/${name}`);
    return {
      ref: ARN_REF_TYPES.has(type) ? arn : name,
      attributes: { Arn: arn, Id: name, Name: name },
      otherAttribute: (attribute) => `${name}.${attribute}`,
    };
  }
}

interface StackContext {
  readonly stack: StackArtifact;
  readonly template: Template;
  readonly resolver: TemplateResolver;
  readonly values: Map<string, ResourceValues>;
  /** Resolved properties of the resources that become local configuration (API Gateway). */
  readonly local: { readonly logicalId: string; readonly type: string; readonly props: Props }[];
}

/**
 * ARNs in the form AWS gives them, for the stand-in types that policies refer to (the authorization model
 * matches them against policy resources and the evaluator checks their form). Undefined: the generic form.
 */
function standInArn(type: string, name: string, region: string, account: string): string | undefined {
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${name}`;
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${account}:policy/${name}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${name}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${account}:${name}`;
    case 'AWS::CloudWatch::Alarm':
      return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
    default:
      return undefined;
  }
}

/** `Shop-local-orders` → `orders`: the first word after `{app}-{env}-` of a REST API's name. */
function serviceOfApi(name: string): string {
  const parts = name.split('-');
  return (parts.length >= 3 ? parts[2] : parts[parts.length - 1]).toLowerCase();
}

/** An event bus name from a name or ARN (`arn:aws:events:{region}:{account}:event-bus/{name}`). */
function busName(nameOrArn: string): string {
  return /:event-bus\/(.+)$/.exec(nameOrArn)?.[1] ?? nameOrArn;
}

function jsonString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
