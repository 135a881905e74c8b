import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DataProtection, removalPolicyFor } from './data-protection';
import type { DeploymentOptions } from './deployment';
import { SafeDeployment, validateDeploymentOptions } from './deployment';
import type { ProvisionedConcurrencyScaling } from './provisioned-scaling';
import { requireProvisionedAgreement, validateProvisionedScaling } from './provisioned-scaling';
import { BUNDLE_FILE, FunctionBundler } from './function-bundler';
import { fail, requireIntegerInRange, show } from './validation';
import { requireNoConflict } from './overrides';

export type { ProvisionedConcurrencyScaling } from './provisioned-scaling';

/** How a function is invoked; decides where failed invocations go. */
export enum InvocationMode {
  /**
   * Invoked synchronously (API Gateway, Cognito triggers): the caller receives the error,
   * so there is no asynchronous failure destination to configure.
   */
  SYNCHRONOUS = 'SYNCHRONOUS',
  /**
   * Invoked by an event source mapping that polls a queue: failures return to the queue and
   * end in the queue's dead-letter queue, not in a Lambda destination.
   */
  QUEUE_POLLER = 'QUEUE_POLLER',
}

/** Log levels understood by Powertools and Lambda's advanced logging controls. */
export enum LogLevel {
  DEBUG = 'DEBUG',
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
}

/**
 * Lambda function props that {@link ServiceFunctionProps.functionProps} passes through to the function
 * (`architecture`, `vpc`, `layers`, `ephemeralStorageSize`, `insightsVersion`, `functionName`, …), merged over
 * the construct's defaults and its typed props, with the construct's must-haves applied last.
 *
 * Left out, because the construct owns them: `code` and `handler` (the shared esbuild bundle), `role` (use
 * {@link ServiceFunctionProps.role}), `logGroup` and the legacy `logRetention`, `logRetentionRole`,
 * `logRetentionRetryOptions`, `logRemovalPolicy` (the function's own log group: use `logRetention` and
 * `dataProtection`), `logFormat` (the deprecated string form of `loggingFormat`), `applicationLogLevel`,
 * `applicationLogLevelV2` and `systemLogLevel` (use `logLevel`, which keeps Lambda's log level and Powertools'
 * in step), `events` (event sources belong on the `live` alias, `liveAlias.addEventSource`) and
 * `durableConfig` (durable functions need the durable execution SDK and role permissions this construct does
 * not grant).
 *
 * Kept but checked, since the construct needs them: `tracing` may only be `Tracing.ACTIVE`, `loggingFormat`
 * only `LoggingFormat.JSON`, `runtime` only a Node.js runtime (the bundle targets Node.js 24), and
 * `environment` may not change `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE` or
 * `POWERTOOLS_LOG_LEVEL`. Any other value fails synth, naming the prop.
 */
export type ServiceFunctionOverrides = Partial<
  Omit<
    lambda.FunctionProps,
    | 'code'
    | 'handler'
    | 'role'
    | 'logGroup'
    | 'logRetention'
    | 'logRetentionRole'
    | 'logRetentionRetryOptions'
    | 'logRemovalPolicy'
    | 'logFormat'
    | 'applicationLogLevel'
    | 'applicationLogLevelV2'
    | 'systemLogLevel'
    | 'events'
    | 'durableConfig'
  >
>;

/** Properties of {@link ServiceFunction}. */
export interface ServiceFunctionProps {
  /** Path to the TypeScript handler file. */
  readonly entry: string;
  /**
   * Exported handler function name.
   * @default 'handler'
   */
  readonly handler?: string;
  /** Service the function belongs to: the Powertools service name and metrics dimension. */
  readonly serviceName: string;
  /** CloudWatch metrics namespace for Powertools metrics (one per application). */
  readonly metricsNamespace: string;
  /**
   * Description shown in the Lambda console.
   * @default - the service name and handler file
   */
  readonly description?: string;
  /**
   * Memory in MB (also buys CPU).
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Maximum run time.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Application log level (Powertools and Lambda advanced logging controls).
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * How long the function's own log group keeps logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether the log group outlives the stack.
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Extra environment variables, merged under the Powertools settings (which always win).
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Reserved concurrency, a bulkhead that caps how much of the account's concurrency this function takes.
   * @default - no reservation (shares the account pool)
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How the function is invoked.
   * @default InvocationMode.SYNCHRONOUS
   */
  readonly invocationMode?: InvocationMode;
  /**
   * Execution environments kept initialized on the `live` alias, so a burst does not wait for cold starts
   * or for Lambda's scaling rate (1,000 environments per function every 10 seconds). Billed while configured.
   * @default - none (on-demand scaling only)
   */
  readonly provisionedConcurrency?: number;
  /**
   * Provisioned concurrency with target-tracking auto scaling on the `live` alias. The alias starts each
   * deployment with `provisionedConcurrency` when given (it must lie from `minCapacity` to `maxCapacity`), else
   * with `minCapacity`, so CloudFormation waits until the new version's environments are initialized before it
   * takes traffic; auto scaling then follows demand.
   * @default - no auto scaling (`provisionedConcurrency` alone is a fixed amount)
   */
  readonly provisionedScaling?: ProvisionedConcurrencyScaling;
  /**
   * Safe rollouts: the `live` alias moves to each new version through CodeDeploy (canary by default) and
   * rolls back when the new version's error or p99 duration alarm fires (see {@link SafeDeployment}).
   * @default - no CodeDeploy: the alias moves to a new version at once
   */
  readonly deployment?: DeploymentOptions;
  /**
   * Execution role to use instead of creating one. The function's grants (writing to its log group, X-Ray,
   * and every later `grant…(fn)`) are added to this role's policy when the role is mutable (an `iam.Role`,
   * or `iam.Role.fromRoleArn` with `mutable` left true); the wildcard-resource check then covers that policy.
   * An immutable role (`iam.Role.fromRoleArn(..., { mutable: false })`) silently drops every grant: its owner
   * must allow what the function needs (`logs:CreateLogStream` and `logs:PutLogEvents` on the log group,
   * `xray:PutTraceSegments` and `xray:PutTelemetryRecords`, and the access of each grant). The role must
   * trust `lambda.amazonaws.com`. Given a `vpc` in `functionProps`, the role must also allow the network
   * interface actions of `AWSLambdaVPCAccessExecutionRole` (added only to a role this construct creates).
   * @default - a new role with no managed policies, trusting lambda.amazonaws.com
   */
  readonly role?: iam.IRole;
  /**
   * Escape hatch: any other Lambda function props, merged in this order: the construct's defaults, then the
   * typed props above (`memorySize`, `timeout`, `description`, `reservedConcurrentExecutions`,
   * `environment`), then these, then the construct's must-haves (X-Ray active tracing, JSON logs, a Node.js
   * runtime, the Powertools environment, the bundled code and handler), which an override cannot change:
   * a conflicting value fails synth, naming the prop. A key given both here and as a typed prop with a
   * different value (also a variable in both `environment`s) fails synth, naming both. `environment` is
   * merged: its variables are added to the function's. See {@link ServiceFunctionOverrides} for what is left
   * out and why.
   * @default - the construct's defaults and typed props only
   */
  readonly functionProps?: ServiceFunctionOverrides;
}

/**
 * A Lambda function with the platform's defaults: the newest Node.js runtime, arm64, X-Ray active
 * tracing, JSON logs into its own log group with retention, Powertools environment, a minified ESM
 * esbuild bundle with source maps (local esbuild, never Docker, one build for many functions), explicit
 * memory and timeout, a role with no managed policies, and a published version behind the alias `live`.
 */
export class ServiceFunction extends Construct implements iam.IGrantable {
  /** The Lambda function. */
  public readonly function: lambda.Function;
  /** Alias `live`, pointing at the current version: what callers (API Gateway, event sources) invoke. */
  public readonly liveAlias: lambda.Alias;
  /** The function's own log group. */
  public readonly logGroup: logs.LogGroup;
  /** The execution role: `props.role` when given, else the one created here (no AWS managed policies). */
  public readonly role: iam.IRole;
  /** The principal to grant permissions to. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** Absolute path of the handler file the function is bundled from. */
  public readonly entry: string;
  /** The CodeDeploy deployment group and its rollback alarms (present when `deployment` is given). */
  public readonly deployment?: SafeDeployment;
  /** Auto scaling of the alias's provisioned concurrency (present when `provisionedScaling` is given). */
  public readonly provisionedScaling?: lambda.IScalableFunctionAttribute;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    validate(props);
    const logLevel = props.logLevel ?? LogLevel.INFO;
    const dataProtection = props.dataProtection ?? DataProtection.RETAIN;
    this.entry = path.resolve(props.entry);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: removalPolicyFor(dataProtection),
    });

    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of ${props.serviceName} ${id}`,
      });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;

    // Construct defaults ← typed props ← functionProps ← must-haves (validateOverrides checked the last two).
    const defaults: ServiceFunctionOverrides = {
      description: `${props.serviceName}: ${id}`,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
    };
    const typed: ServiceFunctionOverrides = definedOnly({
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    });
    const overrides = definedOnly(props.functionProps ?? {});
    this.function = new lambda.Function(this, 'Function', {
      ...defaults,
      ...typed,
      ...overrides,
      runtime: overrides.runtime ?? lambda.Runtime.NODEJS_24_X, // default, required by the props type
      // Bundled with the app's other functions in one esbuild build (see FunctionBundler).
      code: FunctionBundler.of(this).code(this.entry),
      handler: `${path.basename(BUNDLE_FILE, '.mjs')}.${props.handler ?? 'handler'}`,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[logLevel],
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.environment ?? {}),
        ...(overrides.environment ?? {}),
        ...powertoolsEnvironment(props, logLevel),
      },
    });
    if (this.role instanceof iam.Role)
      acknowledgeManagedPolicies(this.role, props.role === undefined, overrides);

    this.liveAlias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: 'live',
      version: this.function.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency ?? props.provisionedScaling?.minCapacity,
    });
    if (props.provisionedScaling) {
      const { minCapacity, maxCapacity, utilizationTarget } = props.provisionedScaling;
      this.provisionedScaling = this.liveAlias.addAutoScaling({ minCapacity, maxCapacity });
      this.provisionedScaling.scaleOnUtilization({ utilizationTarget: utilizationTarget ?? 0.7 });
      // CloudFormation's ScalableTarget takes no Tags: drop the ones stack-wide tagging adds (cfn-lint E3002).
      const target = this.liveAlias.node.findChild('AliasScaling').node.findChild('Target');
      (target.node.defaultChild as CfnResource).addPropertyDeletionOverride('Tags');
    }
    if (props.deployment) {
      this.deployment = new SafeDeployment(this, 'Deployment', {
        ...props.deployment,
        alias: this.liveAlias,
        timeout: this.function.timeout ?? Duration.seconds(3),
        // The function's description, e.g. `orders: POST /orders`, names it in the alarm descriptions.
        label:
          (this.function.node.defaultChild as lambda.CfnFunction).description ??
          `${props.serviceName}: ${id}`,
      });
    }

    // The acknowledgement below covers X-Ray only: any other action granted on "*" fails synthesis.
    this.node.addValidation({ validate: () => wildcardViolations(this) });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
    const mode = props.invocationMode ?? InvocationMode.SYNCHRONOUS;
    const why =
      mode === InvocationMode.SYNCHRONOUS
        ? 'Invoked synchronously (API Gateway or Cognito): the caller receives every error, there are no asynchronous events to lose.'
        : 'Invoked by an SQS event source mapping: failed messages return to the queue and end in its dead-letter queue.';
    for (const rule of ['Serverless-LambdaDLQ', 'Serverless-LambdaAsyncFailureDestination']) {
      Validations.of(this.function).acknowledge({ id: rule, reason: why });
    }
  }

  /**
   * Declares AWS calls the function's code makes (actions on resources), next to the grant that allows them.
   * The declaration goes into the function's template metadata (`cdk-microservices:access`), where the local
   * runtime's deploy-readiness check (`cdk-microservices check`) evaluates each against the policies AWS would
   * apply: a grant, key-policy or resource-policy statement missing makes the check fail before a deploy does.
   */
  public declareAccess(actions: readonly string[], resources: readonly string[]): void {
    const cfn = this.function.node.defaultChild as lambda.CfnFunction;
    this.declaredAccess.push({ actions: [...actions], resources: [...resources] });
    if (this.declaredAccess.length === 1) cfn.addMetadata(ACCESS_METADATA_KEY, this.declaredAccess);
  }

  private readonly declaredAccess: { actions: string[]; resources: string[] }[] = [];
}

/** Template metadata key of {@link ServiceFunction.declareAccess} (read by the local runtime's check). */
export const ACCESS_METADATA_KEY = 'cdk-microservices:access';

/** Actions AWS offers no resource-level permissions for, which a service function may hold on "*". */
const WILDCARD_RESOURCE_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

function wildcardViolations(fn: ServiceFunction): string[] {
  // The policies grants go to: an iam.Role's `DefaultPolicy`, a mutable imported role's `Policy`. An immutable
  // imported role drops grants and has none.
  const policies = fn.role.node.children.filter((child): child is iam.Policy => child instanceof iam.Policy);
  const statements = policies.flatMap(
    (policy) =>
      (
        Stack.of(fn).resolve(policy.document.toJSON()) as {
          Statement?: Array<{ Action: unknown; Resource: unknown }>;
        }
      ).Statement ?? [],
  );
  const offending = statements
    .filter((statement) => [statement.Resource].flat().includes('*'))
    .flatMap((statement) => [statement.Action].flat() as string[])
    .filter((action) => !WILDCARD_RESOURCE_ACTIONS.has(action));
  return offending.length === 0
    ? []
    : [
        `ServiceFunction: actions ${offending.join(', ')} are granted on every resource ("*"); grant them on specific resources`,
      ];
}

/** Fails fast instead of letting aws-cdk-lib fall back to Docker bundling when esbuild is missing. */
function requireLocalEsbuild(): void {
  try {
    require.resolve('esbuild');
  } catch {
    throw new Error(
      'ServiceFunction: esbuild is not installed; add it (npm install --save-dev esbuild): bundling never uses Docker',
    );
  }
}

function validate(props: ServiceFunctionProps): void {
  requireLocalEsbuild();
  validateOverrides(props.functionProps ?? {}, props);
  const overrides = definedOnly(props.functionProps ?? {});
  requireIntegerInRange('ServiceFunction', 'memorySize', props.memorySize, 128, 10240);
  requireIntegerInRange('ServiceFunction', 'functionProps.memorySize', overrides.memorySize, 128, 10240);
  requireTimeout('timeout', props.timeout);
  requireTimeout('functionProps.timeout', overrides.timeout);
  requireIntegerInRange(
    'ServiceFunction',
    'reservedConcurrentExecutions',
    props.reservedConcurrentExecutions,
    0,
    100000,
  );
  requireIntegerInRange(
    'ServiceFunction',
    'functionProps.reservedConcurrentExecutions',
    overrides.reservedConcurrentExecutions,
    0,
    100000,
  );
  requireIntegerInRange('ServiceFunction', 'provisionedConcurrency', props.provisionedConcurrency, 1, 100000);
  if (props.provisionedScaling) {
    validateProvisionedScaling('ServiceFunction', 'provisionedScaling', props.provisionedScaling);
  }
  requireProvisionedAgreement(
    'ServiceFunction',
    'provisionedConcurrency',
    props.provisionedConcurrency,
    'provisionedScaling',
    props.provisionedScaling,
  );
  if (props.deployment) validateDeploymentOptions('ServiceFunction', props.deployment, 'deployment.');
  const [reservedProp, reserved] =
    props.reservedConcurrentExecutions !== undefined
      ? ['reservedConcurrentExecutions', props.reservedConcurrentExecutions]
      : ['functionProps.reservedConcurrentExecutions', overrides.reservedConcurrentExecutions];
  if (
    props.provisionedConcurrency !== undefined &&
    reserved !== undefined &&
    props.provisionedConcurrency > reserved
  ) {
    fail(
      'ServiceFunction',
      'provisionedConcurrency',
      props.provisionedConcurrency,
      `must not exceed ${reservedProp} (${reserved})`,
    );
  }
  const maxCapacity = props.provisionedScaling?.maxCapacity;
  if (maxCapacity !== undefined && reserved !== undefined && maxCapacity > reserved) {
    fail(
      'ServiceFunction',
      'provisionedScaling.maxCapacity',
      maxCapacity,
      `must not exceed ${reservedProp} (${reserved})`,
    );
  }
  if (!props.serviceName) fail('ServiceFunction', 'serviceName', props.serviceName, 'must not be empty');
  if (!props.metricsNamespace)
    fail('ServiceFunction', 'metricsNamespace', props.metricsNamespace, 'must not be empty');
  if (!fs.existsSync(props.entry)) fail('ServiceFunction', 'entry', props.entry, 'no such handler file');
}

function requireTimeout(prop: string, timeout: Duration | undefined): void {
  if (timeout === undefined || timeout.isUnresolved()) return;
  const milliseconds = timeout.toMilliseconds();
  if (milliseconds < 1000 || milliseconds > 900_000 || milliseconds % 1000 !== 0) {
    fail('ServiceFunction', prop, timeout.toHumanString(), 'must be a whole number of seconds from 1 to 900');
  }
}

/** The Powertools settings every function gets; they win over both `environment`s. */
function powertoolsEnvironment(props: ServiceFunctionProps, logLevel: LogLevel): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: props.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}

/** Why each Lambda function prop left out of {@link ServiceFunctionOverrides} is (for callers without types). */
const OWNED_PROPS: Record<Exclude<keyof lambda.FunctionProps, keyof ServiceFunctionOverrides>, string> = {
  code: 'the code is the shared esbuild bundle of entry',
  handler: "the handler is the bundle's export named by the handler prop",
  role: 'use the role prop',
  logGroup: 'the function logs to its own log group (logRetention, dataProtection)',
  logRetention: 'the function logs to its own log group: use logRetention',
  logRetentionRole: 'the function logs to its own log group, with no log retention custom resource',
  logRetentionRetryOptions: 'the function logs to its own log group, with no log retention custom resource',
  logRemovalPolicy: 'the function logs to its own log group: use dataProtection',
  logFormat: 'logs are JSON (a must-have)',
  applicationLogLevel: 'use logLevel, which sets Lambda and Powertools alike',
  applicationLogLevelV2: 'use logLevel, which sets Lambda and Powertools alike',
  systemLogLevel: 'use systemLogLevelV2',
  events: 'add event sources to liveAlias, which callers invoke',
  durableConfig: 'durable functions need permissions this construct does not grant',
};

/** Fails on an override the construct cannot honour: an owned prop, a must-have changed, a typed prop contradicted. */
function validateOverrides(functionProps: ServiceFunctionOverrides, props: ServiceFunctionProps): void {
  const overrides = definedOnly(functionProps);
  for (const key of Object.keys(overrides)) {
    if (key in OWNED_PROPS) {
      const value = (overrides as Record<string, unknown>)[key];
      fail(
        'ServiceFunction',
        `functionProps.${key}`,
        value,
        `is set by ServiceFunction: ${OWNED_PROPS[key as keyof typeof OWNED_PROPS]}`,
      );
    }
  }
  if (overrides.tracing !== undefined && overrides.tracing !== lambda.Tracing.ACTIVE) {
    fail(
      'ServiceFunction',
      'functionProps.tracing',
      overrides.tracing,
      'X-Ray active tracing is a must-have; leave it unset or use Tracing.ACTIVE',
    );
  }
  if (overrides.loggingFormat !== undefined && overrides.loggingFormat !== lambda.LoggingFormat.JSON) {
    fail(
      'ServiceFunction',
      'functionProps.loggingFormat',
      overrides.loggingFormat,
      'JSON logs are a must-have (Powertools logs JSON); leave it unset or use LoggingFormat.JSON',
    );
  }
  if (overrides.runtime !== undefined && overrides.runtime.family !== lambda.RuntimeFamily.NODEJS) {
    fail(
      'ServiceFunction',
      'functionProps.runtime',
      overrides.runtime.name,
      'the handler is a Node.js bundle: use a Node.js runtime',
    );
  }
  const typed: Record<string, unknown> = {
    description: props.description,
    memorySize: props.memorySize,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
  };
  for (const [key, value] of Object.entries({ ...typed, timeout: props.timeout })) {
    const override = (overrides as Record<string, unknown>)[key];
    requireNoConflict('ServiceFunction', key, value, `functionProps.${key}`, override);
  }
  const powertools = powertoolsEnvironment(props, props.logLevel ?? LogLevel.INFO);
  for (const [name, value] of Object.entries(overrides.environment ?? {})) {
    const typedValue = props.environment?.[name];
    requireNoConflict(
      'ServiceFunction',
      `environment.${name}`,
      typedValue,
      `functionProps.environment.${name}`,
      value,
    );
    if (name in powertools && value !== powertools[name]) {
      fail(
        'ServiceFunction',
        `functionProps.environment.${name}`,
        value,
        `is set by ServiceFunction to ${show(powertools[name])} (serviceName, metricsNamespace and logLevel decide it)`,
      );
    }
  }
}

/** The props without keys whose value is undefined, so spreading them never unsets a default. */
function definedOnly<T extends object>(props: T): T {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as T;
}

/**
 * Managed policies an override brings to the role this construct created: the VPC access policy Lambda needs
 * to attach to a VPC (aws-cdk-lib adds it only to roles it creates itself), and Lambda Insights' policy (added
 * by aws-cdk-lib), each acknowledged for cdk-nag next to where it comes from.
 */
function acknowledgeManagedPolicies(
  role: iam.Role,
  created: boolean,
  overrides: ServiceFunctionOverrides,
): void {
  if (created && overrides.vpc) {
    role.addManagedPolicy(
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'functionProps.vpc: Lambda needs the network interface actions of AWSLambdaVPCAccessExecutionRole to attach the function to the VPC.',
    });
  }
  if (overrides.insightsVersion !== undefined) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchLambdaInsightsExecutionRolePolicy]',
      reason:
        'functionProps.insightsVersion: the Lambda Insights extension writes its metrics with this AWS managed policy.',
    });
  }
}
