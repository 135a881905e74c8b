import type { CfnResource } from 'aws-cdk-lib';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { fail, requireIntegerInRange } from './validation';

// Safe rollouts: the `live` alias of a function moves to a new version through CodeDeploy, a slice of the
// traffic at a time, and CodeDeploy rolls the alias back when the new version's own alarms fire.

/** How CodeDeploy shifts the `live` alias's traffic to a new version. */
export enum TrafficShiftType {
  /** A first slice of the traffic, then the rest after an interval. */
  CANARY = 'CANARY',
  /** The same slice of the traffic every interval until all of it has moved. */
  LINEAR = 'LINEAR',
  /** All the traffic at once (CodeDeploy still records the deployment and runs no bake time). */
  ALL_AT_ONCE = 'ALL_AT_ONCE',
}

/** The longest canary or linear interval accepted (two days): a longer one holds the stack update that long. */
const MAX_INTERVAL_MINUTES = 2880;

/**
 * How traffic moves to a new version of a function: {@link TrafficShift.canary}, {@link TrafficShift.linear}
 * or {@link TrafficShift.ALL_AT_ONCE}. Percentages are whole numbers from 1 to 99 and intervals whole minutes
 * from 1 to 2,880; anything else fails synth, naming the value. Shifts that CodeDeploy predefines (10 percent
 * canaries of 5, 10, 15 or 30 minutes; 10 percent linear every 1, 2, 3 or 10 minutes) use the predefined
 * configuration; others create a deployment configuration in the stack (one per distinct shift).
 */
export class TrafficShift {
  /** Everything at once: no bake time, so the alarms cannot stop a bad version before it takes all traffic. */
  public static readonly ALL_AT_ONCE = new TrafficShift(
    TrafficShiftType.ALL_AT_ONCE,
    100,
    Duration.minutes(0),
  );

  /** `percentage` of the traffic for `interval`, then the rest: e.g. `TrafficShift.canary(10, Duration.minutes(5))`. */
  public static canary(percentage: number, interval: Duration): TrafficShift {
    return TrafficShift.checked(TrafficShiftType.CANARY, 'TrafficShift.canary', percentage, interval);
  }

  /** `percentage` more of the traffic every `interval`: e.g. `TrafficShift.linear(10, Duration.minutes(1))`. */
  public static linear(percentage: number, interval: Duration): TrafficShift {
    return TrafficShift.checked(TrafficShiftType.LINEAR, 'TrafficShift.linear', percentage, interval);
  }

  private static checked(
    type: TrafficShiftType,
    construct: string,
    percentage: number,
    interval: Duration,
  ): TrafficShift {
    requireIntegerInRange(construct, 'percentage', percentage, 1, 99);
    if (percentage === undefined)
      fail(construct, 'percentage', percentage, 'must be a whole number from 1 to 99');
    const minutes = interval.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_INTERVAL_MINUTES) {
      fail(
        construct,
        'interval',
        interval.toHumanString(),
        `must be a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES}`,
      );
    }
    return new TrafficShift(type, percentage, interval);
  }

  private constructor(
    /** Canary, linear or all at once. */
    public readonly type: TrafficShiftType,
    /** The slice of traffic each step moves (100 for all at once). */
    public readonly percentage: number,
    /** Time between steps (zero for all at once). */
    public readonly interval: Duration,
  ) {}

  /** A readable name, e.g. `Canary10Percent5Minutes`, `Linear10PercentEvery1Minute`, `AllAtOnce`. */
  public toString(): string {
    const minutes = this.interval.toMinutes();
    const unit = minutes === 1 ? 'Minute' : 'Minutes';
    switch (this.type) {
      case TrafficShiftType.CANARY:
        return `Canary${this.percentage}Percent${minutes}${unit}`;
      case TrafficShiftType.LINEAR:
        return `Linear${this.percentage}PercentEvery${minutes}${unit}`;
      default:
        return 'AllAtOnce';
    }
  }

  /** CodeDeploy's configuration for this shift: a predefined one when it exists, else one in `scope`'s stack. */
  public deploymentConfig(scope: Construct): codedeploy.ILambdaDeploymentConfig {
    const predefined = PREDEFINED[this.toString()];
    if (predefined) return predefined;
    const stack = Stack.of(scope);
    const id = `DeploymentConfig${this.toString()}`;
    const existing = stack.node.tryFindChild(id) as codedeploy.LambdaDeploymentConfig | undefined;
    if (existing) return existing;
    const minutes = this.interval.toMinutes();
    return new codedeploy.LambdaDeploymentConfig(stack, id, {
      trafficRouting:
        this.type === TrafficShiftType.CANARY
          ? codedeploy.TrafficRouting.timeBasedCanary({
              percentage: this.percentage,
              interval: Duration.minutes(minutes),
            })
          : codedeploy.TrafficRouting.timeBasedLinear({
              percentage: this.percentage,
              interval: Duration.minutes(minutes),
            }),
    });
  }
}

const PREDEFINED: Record<string, codedeploy.ILambdaDeploymentConfig> = {
  AllAtOnce: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
  Canary10Percent5Minutes: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  Canary10Percent10Minutes: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  Canary10Percent15Minutes: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  Canary10Percent30Minutes: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  Linear10PercentEvery1Minute: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  Linear10PercentEvery2Minutes: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  Linear10PercentEvery3Minutes: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  Linear10PercentEvery10Minutes: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};

/**
 * How a function's `live` alias moves to a new version (see {@link SafeDeployment}). Leaving
 * `ServiceFunctionProps.deployment` (or `MicroserviceProps.deployment`) unset deploys at once, with no
 * CodeDeploy: CloudFormation points the alias at the new version directly.
 */
export interface DeploymentOptions {
  /**
   * How traffic shifts to the new version.
   * @default TrafficShift.canary(10, Duration.minutes(5)) - CodeDeploy's `LambdaCanary10Percent5Minutes`
   */
  readonly trafficShift?: TrafficShift;
  /**
   * Errors of the new version within one minute that stop the deployment and roll the alias back (a whole
   * number of at least 1). Handlers map expected failures to HTTP responses or batch item failures, so a Lambda
   * error is an unhandled one.
   * @default 1
   */
  readonly maxErrorsPerMinute?: number;
  /**
   * p99 duration of the new version that, in 2 of 3 one-minute periods, stops the deployment and rolls the
   * alias back (periods with too few invocations for a p99 are ignored). Set it from the function's latency
   * objective for a real latency gate.
   * @default - 80% of the function's timeout: a version heading for timeouts is rolled back
   */
  readonly maxP99Duration?: Duration;
  /**
   * What the rollback alarms notify besides stopping the deployment, e.g. `platform.alarmActions`.
   * @default - none (the failed deployment fails the stack update, which the deployer sees)
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/** Properties of {@link SafeDeployment}. */
export interface SafeDeploymentProps extends DeploymentOptions {
  /** The alias CodeDeploy moves (a `ServiceFunction`'s `live` alias). */
  readonly alias: lambda.Alias;
  /** The function's timeout, from which the default `maxP99Duration` follows. */
  readonly timeout: Duration;
  /** Names the function in alarm descriptions, e.g. `orders: POST /orders`. */
  readonly label: string;
}

/** The share of the timeout that is the default p99 threshold. */
const DEFAULT_P99_SHARE_OF_TIMEOUT = 0.8;

/**
 * A CodeDeploy deployment group that shifts traffic of a function's alias to each new version
 * ({@link TrafficShift}, canary by default) and rolls it back automatically when the deployment fails, is
 * stopped, or when one of two alarms on the new version (the alias's metrics for the version that executed)
 * fires: errors, and p99 duration. The stack's CodeDeploy application and service role are shared by all
 * its deployment groups; the role carries the AWS managed policy `AWSCodeDeployRoleForLambdaLimited`.
 *
 * With a deployment group, CloudFormation no longer moves the alias itself: it starts a CodeDeploy
 * deployment (the alias's `CodeDeployLambdaAliasUpdate` update policy) and waits for it; a rolled-back
 * deployment fails the stack update, which then rolls back too.
 */
export class SafeDeployment extends Construct {
  /** The deployment group of the alias. */
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** Errors of the new version (alias metrics, dimension `ExecutedVersion`). */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** p99 duration of the new version (alias metrics, dimension `ExecutedVersion`). */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** How traffic shifts. */
  public readonly trafficShift: TrafficShift;

  constructor(scope: Construct, id: string, props: SafeDeploymentProps) {
    super(scope, id);
    validateDeploymentOptions('SafeDeployment', props);
    this.trafficShift = props.trafficShift ?? TrafficShift.canary(10, Duration.minutes(5));
    const { alias } = props;
    const functionName = alias.version.lambda.functionName;
    // The alias's metrics as executed by the version being deployed: during a canary only the new version's
    // invocations count, the old version's errors do not roll the new one back.
    const newVersion = {
      FunctionName: functionName,
      Resource: `${functionName}:${alias.aliasName}`,
      ExecutedVersion: alias.version.version,
    };
    const maxErrors = props.maxErrorsPerMinute ?? 1;
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `${props.label}: the version being deployed raised ${maxErrors} or more errors in a minute; CodeDeploy stops the deployment and moves the live alias back`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensionsMap: newVersion,
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(1),
      }),
      threshold: maxErrors,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const maxP99 =
      props.maxP99Duration?.toMilliseconds() ??
      Math.round(props.timeout.toMilliseconds() * DEFAULT_P99_SHARE_OF_TIMEOUT);
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmDescription: `${props.label}: p99 duration of the version being deployed reached ${maxP99} ms; CodeDeploy stops the deployment and moves the live alias back`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName: 'Duration',
        dimensionsMap: newVersion,
        statistic: cloudwatch.Stats.p(99),
        period: Duration.minutes(1),
      }),
      threshold: maxP99,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluateLowSampleCountPercentile: 'ignore',
    });
    for (const alarm of [this.errorsAlarm, this.latencyAlarm]) {
      alarm.addAlarmAction(...(props.alarmActions ?? []));
      // The alarms watch the new version before CloudFormation asks CodeDeploy to move the alias to it.
      (alias.node.defaultChild as CfnResource).addResourceDependency(alarm.node.defaultChild as CfnResource);
    }

    const { application, role } = codeDeployOf(this);
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Group', {
      application,
      role,
      alias,
      deploymentConfig: this.trafficShift.deploymentConfig(this),
      alarms: [this.errorsAlarm, this.latencyAlarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
  }
}

/** Checks {@link DeploymentOptions}; `construct` names who received them. @internal */
export function validateDeploymentOptions(construct: string, options: DeploymentOptions, prefix = ''): void {
  requireIntegerInRange(construct, `${prefix}maxErrorsPerMinute`, options.maxErrorsPerMinute, 1, 1_000_000);
  const p99 = options.maxP99Duration;
  if (p99 !== undefined && !Token.isUnresolved(p99.toMilliseconds({ integral: false }))) {
    const ms = p99.toMilliseconds({ integral: false });
    if (!Number.isInteger(ms) || ms < 1 || ms > 900_000) {
      fail(
        construct,
        `${prefix}maxP99Duration`,
        p99.toHumanString(),
        'must be a whole number of milliseconds from 1 ms to 15 minutes (the longest Lambda timeout)',
      );
    }
  }
  if (options.trafficShift !== undefined && !(options.trafficShift instanceof TrafficShift)) {
    fail(
      construct,
      `${prefix}trafficShift`,
      options.trafficShift,
      'use TrafficShift.canary(...), TrafficShift.linear(...) or TrafficShift.ALL_AT_ONCE',
    );
  }
}

/** The stack's CodeDeploy application and service role, shared by its deployment groups. */
function codeDeployOf(scope: Construct): { application: codedeploy.LambdaApplication; role: iam.Role } {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild('CodeDeployApplication') as
    codedeploy.LambdaApplication | undefined;
  if (existing) return { application: existing, role: stack.node.findChild('CodeDeployRole') as iam.Role };
  const application = new codedeploy.LambdaApplication(stack, 'CodeDeployApplication');
  const role = new iam.Role(stack, 'CodeDeployRole', {
    assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
    description: 'CodeDeploy service role of the Lambda deployment groups of this stack',
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSCodeDeployRoleForLambdaLimited'),
    ],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
    reason:
      "CodeDeploy's service role for Lambda: AWSCodeDeployRoleForLambdaLimited is AWS's least-privilege policy for it (read and update aliases, read the alarms, invoke only hooks named CodeDeployHook_*).",
  });
  return { application, role };
}
