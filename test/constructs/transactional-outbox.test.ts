import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { TransactionalOutbox } from '../../lib';
import { outboxInputTemplate } from '../../lib/constructs/transactional-outbox';
import { appWithoutBundling } from '../helpers';

function build(stream = true, overrides: Partial<ConstructorParameters<typeof TransactionalOutbox>[2]> = {}) {
  const stack = new Stack(appWithoutBundling(), 'Outbox');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    stream: stream ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
  });
  const outbox = new TransactionalOutbox(stack, 'Outbox', {
    table,
    eventBus: new events.EventBus(stack, 'Bus'),
    source: 'shop.orders',
    eventTypes: ['OrderPlaced', 'OrderConfirmed'],
    encryptionKey: new kms.Key(stack, 'Key'),
    alarmTopic: new sns.Topic(stack, 'Alarms'),
    ...overrides,
  });
  return { stack, outbox, template: Template.fromStack(stack) };
}

describe('TransactionalOutbox', () => {
  const { template } = build();

  it('reads the table stream and puts events on the bus with the service as source', () => {
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      Source: { 'Fn::GetAtt': [Match.stringLikeRegexp('Table'), 'StreamArn'] },
      Target: { 'Fn::GetAtt': [Match.stringLikeRegexp('Bus'), 'Arn'] },
      TargetParameters: {
        EventBridgeEventBusParameters: {
          Source: 'shop.orders',
          DetailType: '$.dynamodb.NewImage.eventType.S',
        },
        InputTemplate: outboxInputTemplate(),
      },
    });
  });

  it('lets only newly inserted outbox items of the declared types through the filter', () => {
    const pipe = Object.values(template.findResources('AWS::Pipes::Pipe'))[0];
    const { Filters } = pipe.Properties.SourceParameters.FilterCriteria;
    expect(Filters).toHaveLength(1);
    expect(JSON.parse(Filters[0].Pattern)).toEqual({
      eventName: ['INSERT'],
      dynamodb: {
        NewImage: { itemType: { S: ['OUTBOX'] }, eventType: { S: ['OrderPlaced', 'OrderConfirmed'] } },
      },
    });
  });

  it('reshapes each record into the event envelope', () => {
    const envelope = outboxInputTemplate();
    for (const field of ['id', 'type', 'version', 'source', 'occurredAt', 'correlationId', 'data']) {
      expect(envelope).toContain(`"${field}": "<$.dynamodb.NewImage.`);
    }
  });

  it('retries, then parks undeliverable records in a KMS-encrypted, TLS-only dead-letter queue', () => {
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      SourceParameters: Match.objectLike({
        DynamoDBStreamParameters: {
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 10,
          MaximumRetryAttempts: 10,
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OutboxDeadLetterQueue'), 'Arn'] },
          },
        },
      }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('logs pipe errors and alarms on the dead-letter queue and on failed executions', () => {
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      LogConfiguration: Match.objectLike({ Level: 'ERROR' }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Alarms') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/EventBridge/Pipes',
      MetricName: 'ExecutionFailed',
      Dimensions: [{ Name: 'PipeName', Value: { Ref: Match.stringLikeRegexp('OutboxPipe') } }],
    });
  });

  it('gives the pipe role stream read, put-events on the bus and send on the dead-letter queue only', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('OutboxRole'),
    );
    const actions = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()),
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'events:PutEvents',
        'sqs:SendMessage',
      ]),
    );
    expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
  });

  it('fails when the table has no stream', () => {
    expect(() => build(false)).toThrow(
      /TransactionalOutbox: invalid table "Outbox\/Table": enable the table stream/,
    );
  });

  it('fails when no event type is declared', () => {
    expect(() => build(true, { eventTypes: [] })).toThrow(/invalid eventTypes \[\]/);
  });
});
