import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterAlarm, notify } from './alarms';
import type { DataProtection } from './data-protection';
import type { DeploymentOptions } from './deployment';
import type { EventContract } from '../../functions/shared/events/contract';
import { eventTypesOf } from './event-contracts';
import type { EventType } from './event-type';
import type { LogLevel, ServiceFunctionOverrides } from './service-function';
import { InvocationMode, ServiceFunction } from './service-function';
import { fail, requireIntegerInRange } from './validation';
import { requireNoConflict } from './overrides';

/** The SQS visibility timeout must be at least this multiple of the consumer's timeout (AWS guidance). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Properties of {@link EventSubscription}. */
export interface EventSubscriptionProps {
  /** The consuming service (Powertools service name). */
  readonly serviceName: string;
  /** Application name: event sources are `{app}.{producer}`. */
  readonly appName: string;
  /** CloudWatch metrics namespace of the consumer. */
  readonly metricsNamespace: string;
  /** The bus the events arrive on. */
  readonly eventBus: events.IEventBus;
  /**
   * The contracts of the events delivered to this consumer, e.g. `[OrderPlaced]` (imported from the
   * producer's contracts): each rule matches the contract's producer (`source` `{app}.{producer}`) and type
   * (`detail-type`). A contract listed twice fails synth.
   */
  readonly events: EventContract[];
  /** Handler file of the consumer function. */
  readonly entry: string;
  /**
   * Key encrypting the queue and its dead-letter queue. EventBridge is allowed to use it when the key
   * belongs to this app (an imported key's policy cannot be changed here).
   */
  readonly encryptionKey: kms.IKey;
  /**
   * Consumer function timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Consumer memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Messages per invocation.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long to gather a batch.
   * @default - no batching window
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Maximum concurrent invocations from this queue (2-1000): the consumer's bulkhead.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Queue visibility timeout; at least 6 × the consumer timeout.
   * @default - 6 × the consumer timeout
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Age of the oldest queued message that raises the queue-age alarm.
   * @default Duration.minutes(5)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Topic notified by the alarms.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * What the alarms notify: e.g. `platform.alarmActions`, every alarm destination of the platform.
   * @default - an SNS action for `alarmTopic` when given, else none
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /**
   * Extra environment variables of the consumer.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Log level of the consumer.
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;
  /**
   * Log retention of the consumer.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Whether logs outlive the stack.
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Execution role of the consumer instead of a new one (see `ServiceFunctionProps.role`): the queue
   * grants go to it, so an immutable imported role must already allow reading and deleting the queue's
   * messages and decrypting with `encryptionKey`.
   * @default - a new role with no managed policies
   */
  readonly role?: iam.IRole;
  /**
   * Escape hatch: other Lambda function props of the consumer, merged as
   * `ServiceFunctionProps.functionProps` describes (must-haves applied last, a conflicting override
   * failing synth). `functionProps.timeout` may stand for `timeout` (the queue's visibility timeout follows
   * it) and `functionProps.description` replaces the generated description.
   * @default - the consumer's defaults and typed props only
   */
  readonly functionProps?: ServiceFunctionOverrides;
  /**
   * Safe rollouts of the consumer: its `live` alias (which the queue's event source mapping invokes) moves to
   * each new version through CodeDeploy and rolls back on the new version's alarms (see {@link SafeDeployment}).
   * @default - no CodeDeploy: the alias moves to a new version at once
   */
  readonly deployment?: DeploymentOptions;
}

/**
 * A buffered, bulkheaded asynchronous consumer: an EventBridge rule for the given event contracts → an
 * encrypted, TLS-only SQS queue with a dead-letter queue → a {@link ServiceFunction} reading batches with
 * partial batch failure reporting and a maximum concurrency. Alarms watch the dead-letter queue and the age
 * of the oldest message.
 */
export class EventSubscription extends Construct {
  /** The event types delivered, from the contracts in `events`. */
  public readonly eventTypes: readonly EventType[];
  /** The rule on the bus matching the subscribed events. */
  public readonly rule: events.Rule;
  /** The consumer's buffer: encrypted, TLS-only, with a dead-letter queue. */
  public readonly queue: sqs.Queue;
  /** Messages that failed `maxReceiveCount` times, and events the rule could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The function reading the queue in batches. */
  public readonly consumer: ServiceFunction;
  /** Alarm raised when a message waits in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Alarm raised when the oldest queued message is older than `maxMessageAge`. */
  public readonly queueAgeAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: EventSubscriptionProps) {
    super(scope, id);
    if (props.events.length === 0)
      fail('EventSubscription', 'events', [], 'subscribe to at least one event type');
    this.eventTypes = eventTypesOf('EventSubscription', 'events', props.events);
    if (!(props.encryptionKey instanceof kms.Key)) {
      // EventBridge may use the key only if its key policy says so (added below), and an imported key's
      // policy cannot be changed here: deliveries would fail silently.
      fail(
        'EventSubscription',
        'encryptionKey',
        props.encryptionKey.node.path,
        'must be a kms.Key created in this app, so EventBridge can be allowed to use it',
      );
    }
    const overrides = props.functionProps ?? {};
    // The visibility timeout follows the consumer's timeout, so an override of it is resolved here.
    requireNoConflict(
      'EventSubscription',
      'timeout',
      props.timeout,
      'functionProps.timeout',
      overrides.timeout,
    );
    const timeout = props.timeout ?? overrides.timeout ?? Duration.seconds(30);
    const minimumVisibility =
      timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR + (props.maxBatchingWindow?.toSeconds() ?? 0);
    const visibilityTimeout = props.visibilityTimeout ?? Duration.seconds(minimumVisibility);
    if (visibilityTimeout.toSeconds() < minimumVisibility) {
      fail(
        'EventSubscription',
        'visibilityTimeout',
        `${visibilityTimeout.toSeconds()}s`,
        `must be at least ${VISIBILITY_TIMEOUT_FACTOR} × the consumer timeout plus the batching window (${minimumVisibility}s)`,
      );
    }
    if (visibilityTimeout.toSeconds() > 43200) {
      fail(
        'EventSubscription',
        'visibilityTimeout',
        `${visibilityTimeout.toSeconds()}s`,
        'SQS allows at most 12 hours; shorten the timeout',
      );
    }
    const batchSize = props.batchSize ?? 10;
    requireIntegerInRange('EventSubscription', 'batchSize', batchSize, 1, 10000);
    if (batchSize > 10 && !props.maxBatchingWindow) {
      fail('EventSubscription', 'batchSize', batchSize, 'batches above 10 need a maxBatchingWindow');
    }
    requireIntegerInRange('EventSubscription', 'maxConcurrency', props.maxConcurrency, 2, 1000);
    requireIntegerInRange('EventSubscription', 'maxReceiveCount', props.maxReceiveCount, 1, 1000);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue: messages that failed maxReceiveCount times are kept here 14 days and alarmed on.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      description: `${props.serviceName} ${id}: ${this.eventTypes.map(String).join(', ')}`,
      eventPattern: {
        source: [...new Set(this.eventTypes.map((e) => e.sourceIn(props.appName)))],
        detailType: [...new Set(this.eventTypes.map((e) => e.name))],
      },
    });
    this.rule.addTarget(
      new EncryptedQueueTarget(this.queue, this.deadLetterQueue, props.encryptionKey, {
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );

    this.consumer = new ServiceFunction(this, 'Consumer', {
      entry: props.entry,
      serviceName: props.serviceName,
      metricsNamespace: props.metricsNamespace,
      description:
        overrides.description ??
        `${props.serviceName}: consumes ${this.eventTypes.map((e) => e.name).join(', ')}`,
      timeout,
      memorySize: props.memorySize,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      dataProtection: props.dataProtection,
      environment: props.environment,
      invocationMode: InvocationMode.QUEUE_POLLER,
      role: props.role,
      deployment: props.deployment,
      // timeout and description are passed above as typed props; the rest goes through as given.
      functionProps: props.functionProps && { ...overrides, timeout: undefined, description: undefined },
    });
    this.consumer.liveAlias.addEventSource(
      new lambdaEventSources.SqsEventSource(this.queue, {
        batchSize,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 5,
      }),
    );

    Validations.of(this.consumer.liveAlias).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        "SQS event source mappings take no on-failure destination: failed messages return to the queue and, after maxReceiveCount, move to the queue's dead-letter queue.",
    });

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      this.deadLetterQueue,
      `${props.serviceName} ${id}: messages failed ${props.maxReceiveCount ?? 5} times and wait in the dead-letter queue`,
    );
    const maxAge = props.maxMessageAge ?? Duration.minutes(5);
    this.queueAgeAlarm = new cloudwatch.Alarm(this, 'QueueAgeAlarm', {
      alarmDescription: `${props.serviceName} ${id}: the oldest message is older than ${maxAge.toHumanString()}`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: maxAge.toSeconds(),
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notify(props.alarmTopic, props.alarmActions, this.deadLetterAlarm, this.queueAgeAlarm);
  }
}

/**
 * The rule's target: the KMS-encrypted queue, with the rule's dead-letter queue (encrypted with the same key).
 * Written out instead of `targets.SqsQueue`, which for an encrypted queue puts an `aws:SourceAccount`
 * condition on both the queue policy and the key policy statements for `events.amazonaws.com`:
 *
 * - Queue policies: `sqs:SendMessage` for `events.amazonaws.com` only with `aws:SourceArn` equal to this rule,
 *   as the EventBridge user guide shows for Amazon SQS targets ("Using resource-based policies for Amazon
 *   EventBridge", Amazon SQS permissions: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
 * - Key policy: `kms:GenerateDataKey` and `kms:Decrypt` for `events.amazonaws.com`, the two actions an
 *   encrypted queue needs from a sending service (SQS guide, "Enable compatibility between AWS services such
 *   as EventBridge and encrypted queues": https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html),
 *   with no condition. The same guide's SNS counterpart says `aws:SourceAccount`/`aws:SourceArn` are not
 *   supported in the key policy for EventBridge with encrypted topics, and nothing documents them for SQS;
 *   a condition the KMS request does not carry would drop every event silently. Without it the statement
 *   is correct under both readings, and least privilege holds: the two actions only, and only the rule the
 *   queue policy names can make EventBridge send to these queues at all.
 */
class EncryptedQueueTarget implements events.IRuleTarget {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly deadLetterQueue: sqs.IQueue,
    private readonly key: kms.IKey,
    private readonly options: { readonly retryAttempts: number; readonly maxEventAge: Duration },
  ) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    const fromThisRule = { ArnEquals: { 'aws:SourceArn': rule.ruleArn } };
    for (const queue of [this.queue, this.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: fromThisRule,
        }),
      );
    }
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    return {
      arn: this.queue.queueArn,
      targetResource: this.queue,
      deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumRetryAttempts: this.options.retryAttempts,
        maximumEventAgeInSeconds: this.options.maxEventAge.toSeconds(),
      },
    };
  }
}
