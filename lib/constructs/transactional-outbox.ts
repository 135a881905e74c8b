import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OUTBOX_ITEM_TYPE, OutboxAttribute } from '../../functions/shared/events/outbox-format';
import { deadLetterAlarm, notify } from './alarms';
import { DataProtection, removalPolicyFor } from './data-protection';
import { fail, requireIntegerInRange } from './validation';

/** Properties of {@link TransactionalOutbox}. */
export interface TransactionalOutboxProps {
  /** The service table; its stream must be enabled with new images. */
  readonly table: dynamodb.ITable;
  /** The bus events are published to. */
  readonly eventBus: events.IEventBus;
  /** EventBridge `source` of the events (`{app}.{service}`). */
  readonly source: string;
  /** Event names (`detail-type`) the service may publish; outbox items of other types stay in the table. */
  readonly eventTypes: string[];
  /** Key encrypting the dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  /**
   * Topic notified when the dead-letter queue receives an event or the pipe fails.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * What the alarms notify: e.g. `platform.alarmActions`, every alarm destination of the platform.
   * @default - an SNS action for `alarmTopic` when given, else none
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /**
   * Attempts to put a batch on the bus before the records go to the dead-letter queue.
   * @default 10
   */
  readonly maximumRetryAttempts?: number;
  /**
   * Stream records per batch.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Whether the pipe's log group outlives the stack.
   * @default DataProtection.RETAIN
   */
  readonly dataProtection?: DataProtection;
  /**
   * Retention of the pipe's error log.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The publishing half of the transactional outbox: handlers write state and outbox items in one
 * `TransactWriteItems`; this construct moves the outbox items, and only those, from the table's stream to
 * the event bus with an EventBridge Pipe, reshaping each into the event envelope
 * `{ id, type, version, source, occurredAt, correlationId, data }`. Records that cannot be delivered after
 * the retries land in an encrypted dead-letter queue, and alarms watch both the queue and the pipe.
 */
export class TransactionalOutbox extends Construct {
  /** The pipe (L1: aws-cdk-lib has no L2 for EventBridge Pipes). */
  public readonly pipe: pipes.CfnPipe;
  /** Where undeliverable stream records go. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The pipe's execution role. */
  public readonly role: iam.Role;
  /** Alarm: at least one record in the dead-letter queue. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** Alarm: the pipe failed to deliver a batch. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** The pipe's error log. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TransactionalOutboxProps) {
    super(scope, id);
    if (!props.table.tableStreamArn) {
      fail(
        'TransactionalOutbox',
        'table',
        props.table.node.path,
        'enable the table stream (StreamViewType.NEW_IMAGE)',
      );
    }
    if (props.eventTypes.length === 0)
      fail('TransactionalOutbox', 'eventTypes', props.eventTypes, 'name at least one event type');
    requireIntegerInRange('TransactionalOutbox', 'maximumRetryAttempts', props.maximumRetryAttempts, 0, 185);
    requireIntegerInRange('TransactionalOutbox', 'batchSize', props.batchSize, 1, 10000);
    const removalPolicy = removalPolicyFor(props.dataProtection ?? DataProtection.RETAIN);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    Validations.of(this.deadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is the pipe's dead-letter queue (Pipes' DeadLetterConfig, which cdk-nag does not recognise).",
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason:
          'A dead-letter queue has no dead-letter queue of its own: what lands here is kept 14 days and alarmed on.',
      },
    );

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Moves outbox events from ${props.source} to the event bus`,
    });
    props.table.grantStreamRead(this.role);
    props.eventBus.grantPutEventsTo(this.role);
    this.deadLetterQueue.grantSendMessages(this.role);
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'dynamodb:ListStreams (part of grantStreamRead) supports no resource-level permissions.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          "Sending to the KMS-encrypted dead-letter queue needs the GenerateDataKey family on that queue's key only.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        reason: "Sending to the KMS-encrypted dead-letter queue: ReEncrypt family on that queue's key only.",
      },
    );

    const logGroup = (this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    }));

    const image = (attribute: string, type: 'S' | 'N') => `$.dynamodb.NewImage.${attribute}.${type}`;
    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: `Transactional outbox of ${props.source}: ${props.eventTypes.join(', ')}`,
      roleArn: this.role.roleArn,
      source: props.table.tableStreamArn!,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'TRIM_HORIZON',
          batchSize: props.batchSize ?? 10,
          maximumRetryAttempts: props.maximumRetryAttempts ?? 10,
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        },
        filterCriteria: {
          filters: [
            {
              pattern: JSON.stringify({
                eventName: ['INSERT'],
                dynamodb: {
                  NewImage: {
                    [OutboxAttribute.ITEM_TYPE]: { S: [OUTBOX_ITEM_TYPE] },
                    [OutboxAttribute.EVENT_TYPE]: { S: [...props.eventTypes] },
                  },
                },
              }),
            },
          ],
        },
      },
      target: props.eventBus.eventBusArn,
      targetParameters: {
        eventBridgeEventBusParameters: {
          source: props.source,
          detailType: image(OutboxAttribute.EVENT_TYPE, 'S'),
        },
        inputTemplate: outboxInputTemplate(),
      },
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: { logGroupArn: logGroup.logGroupArn },
      },
    });
    // The role's policy must exist before the pipe starts reading the stream.
    this.pipe.node.addDependency(this.role);
    logGroup.grantWrite(this.role);

    this.deadLetterAlarm = deadLetterAlarm(
      this,
      this.deadLetterQueue,
      `Outbox events of ${props.source} could not be published and wait in the dead-letter queue`,
    );
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `The outbox pipe of ${props.source} failed to deliver events`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/EventBridge/Pipes',
        metricName: 'ExecutionFailed',
        dimensionsMap: { PipeName: this.pipe.ref },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notify(props.alarmTopic, props.alarmActions, this.deadLetterAlarm, this.failureAlarm);
  }
}

/**
 * The pipe's input template: one outbox stream record → the event envelope. String values are quoted
 * (EventBridge inserts them as JSON strings), so `version` arrives as a string and `data` as the string the
 * writer stored; the runtime kit's envelope parser turns both back into their types.
 *
 * `data` is not JSON text but `base64:<base64 of the JSON text>` (`encodeOutboxData`). The Pipes guide
 * ("Amazon EventBridge Pipes input transformation",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-input-transformation.html) says EventBridge
 * replaces placeholders "to ensure valid JSON output" and that variables referring to JSON path parameters are
 * to be quoted, but not whether a quoted value is escaped. JSON text in a quoted placeholder is correct only if
 * it is; base64 contains no `"`, `\` or control character, so the envelope is the same under both readings.
 */
export function outboxInputTemplate(): string {
  const s = (attribute: string) => `"<$.dynamodb.NewImage.${attribute}.S>"`;
  return (
    '{' +
    [
      `"id": ${s(OutboxAttribute.EVENT_ID)}`,
      `"type": ${s(OutboxAttribute.EVENT_TYPE)}`,
      `"version": "<$.dynamodb.NewImage.${OutboxAttribute.EVENT_VERSION}.N>"`,
      `"source": ${s(OutboxAttribute.EVENT_SOURCE)}`,
      `"occurredAt": ${s(OutboxAttribute.OCCURRED_AT)}`,
      `"correlationId": ${s(OutboxAttribute.CORRELATION_ID)}`,
      `"data": ${s(OutboxAttribute.DATA)}`,
    ].join(', ') +
    '}'
  );
}
