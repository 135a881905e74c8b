import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DataProtection, removalPolicyFor } from './data-protection';
import { BUNDLE_FILE, FunctionBundler } from './function-bundler';
import { fail, requireIntegerInRange } from './validation';

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
  /** The execution role (no AWS managed policies). */
  public readonly role: iam.Role;
  /** The principal to grant permissions to. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** Absolute path of the handler file the function is bundled from. */
  public readonly entry: string;

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

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName} ${id}`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;

    this.function = new lambda.Function(this, 'Function', {
      // Bundled with the app's other functions in one esbuild build (see FunctionBundler).
      code: FunctionBundler.of(this).code(this.entry),
      handler: `${path.basename(BUNDLE_FILE, '.mjs')}.${props.handler ?? 'handler'}`,
      description: props.description ?? `${props.serviceName}: ${id}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[logLevel],
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.environment ?? {}),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: logLevel,
      },
    });

    this.liveAlias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: 'live',
      version: this.function.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency,
    });

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
  const policy = fn.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return [];
  const document = Stack.of(fn).resolve(policy.document.toJSON()) as {
    Statement?: Array<{ Action: unknown; Resource: unknown }>;
  };
  const offending = (document.Statement ?? [])
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
  requireIntegerInRange('ServiceFunction', 'memorySize', props.memorySize, 128, 10240);
  if (props.timeout !== undefined) {
    const milliseconds = props.timeout.toMilliseconds();
    if (milliseconds < 1000 || milliseconds > 900_000 || milliseconds % 1000 !== 0) {
      fail(
        'ServiceFunction',
        'timeout',
        props.timeout.toHumanString(),
        'must be a whole number of seconds from 1 to 900',
      );
    }
  }
  requireIntegerInRange(
    'ServiceFunction',
    'reservedConcurrentExecutions',
    props.reservedConcurrentExecutions,
    0,
    100000,
  );
  requireIntegerInRange('ServiceFunction', 'provisionedConcurrency', props.provisionedConcurrency, 1, 100000);
  if (
    props.provisionedConcurrency !== undefined &&
    props.reservedConcurrentExecutions !== undefined &&
    props.provisionedConcurrency > props.reservedConcurrentExecutions
  ) {
    fail(
      'ServiceFunction',
      'provisionedConcurrency',
      props.provisionedConcurrency,
      `must not exceed reservedConcurrentExecutions (${props.reservedConcurrentExecutions})`,
    );
  }
  if (!props.serviceName) fail('ServiceFunction', 'serviceName', props.serviceName, 'must not be empty');
  if (!props.metricsNamespace)
    fail('ServiceFunction', 'metricsNamespace', props.metricsNamespace, 'must not be empty');
  if (!fs.existsSync(props.entry)) fail('ServiceFunction', 'entry', props.entry, 'no such handler file');
}
