import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as z from 'zod/mini';
import { OrderCancelled, OrderPlaced } from '../../functions/contracts/events';
import type { EventContract } from '../../functions/shared/events/contract';
import { defineContract } from '../../functions/shared/events/contract';
import type { EventSubscriptionProps } from '../../lib';
import { EventSubscription, EventType } from '../../lib';
import { appWithoutBundling, HEALTH_HANDLER } from '../helpers';

function build(
  overrides: Partial<EventSubscriptionProps> = {},
  stack = new Stack(appWithoutBundling(), 'Subscriber'),
) {
  const subscription = new EventSubscription(stack, 'ReserveStock', {
    serviceName: 'inventory',
    appName: 'Shop',
    metricsNamespace: 'Shop',
    eventBus: new events.EventBus(stack, 'Bus'),
    events: [OrderPlaced],
    entry: HEALTH_HANDLER,
    encryptionKey: new kms.Key(stack, 'Key'),
    timeout: Duration.seconds(20),
    ...overrides,
  });
  return { stack, subscription, template: Template.fromStack(stack) };
}

describe('EventSubscription', () => {
  const { template } = build();

  it('routes the typed events from the bus to the queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('Bus') },
      EventPattern: { source: ['shop.orders'], 'detail-type': ['OrderPlaced'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockQueue'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockDeadLetterQueue'), 'Arn'] },
          },
        }),
      ],
    });
  });

  it('buffers in a KMS-encrypted queue with a dead-letter queue after 5 receives and a visibility of 6 × the timeout', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      VisibilityTimeout: 120,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  it('denies every non-TLS access to both queues', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.length).toBe(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  it('lets EventBridge use the key with only what SQS needs, and no source condition AWS does not document for it', () => {
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    const forEvents = key.Properties.KeyPolicy.Statement.filter(
      (s: { Principal?: { Service?: string } }) => s.Principal?.Service === 'events.amazonaws.com',
    );
    expect(forEvents).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
      },
    ]);
  });

  it('lets only this rule send to the queue and to its dead-letter queue (aws:SourceArn)', () => {
    const rule = { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockRule'), 'Arn'] };
    for (const queue of ['ReserveStockQueue', 'ReserveStockDeadLetterQueue']) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: Match.stringLikeRegexp(`^${queue}[0-9A-F]{8}$`) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${queue}[0-9A-F]{8}$`), 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': rule } },
            },
          ]),
        },
      });
    }
    const statements = Object.values(template.findResources('AWS::SQS::QueuePolicy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    for (const statement of statements.filter((s) => s.Principal?.Service === 'events.amazonaws.com')) {
      expect(statement.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': expect.anything() } });
    }
  });

  it('fails when the key is imported (its policy could not let EventBridge in)', () => {
    const stack = new Stack(appWithoutBundling(), 'Imported');
    expect(
      () =>
        new EventSubscription(stack, 'Sub', {
          serviceName: 'inventory',
          appName: 'Shop',
          metricsNamespace: 'Shop',
          eventBus: new events.EventBus(stack, 'Bus'),
          events: [OrderPlaced],
          entry: HEALTH_HANDLER,
          encryptionKey: kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/abc'),
        }),
    ).toThrow(
      /EventSubscription: invalid encryptionKey "Imported\/Key": must be a kms.Key created in this app/,
    );
  });

  it('invokes the consumer in batches with partial batch failure reporting and a concurrency bulkhead', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockQueue'), 'Arn'] },
      FunctionName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':live'])] }),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('alarms on the dead-letter queue and on the age of the oldest message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 300,
    });
  });

  it('fails when the visibility timeout is shorter than 6 × the consumer timeout', () => {
    expect(() => build({ visibilityTimeout: Duration.seconds(60) })).toThrow(
      /EventSubscription: invalid visibilityTimeout "60s": must be at least 6 × the consumer timeout plus the batching window \(120s\)/,
    );
  });

  it('fails when the maximum concurrency is below the SQS minimum of 2', () => {
    expect(() => build({ maxConcurrency: 1 })).toThrow(/invalid maxConcurrency 1/);
  });

  it('fails when a batch above 10 has no batching window', () => {
    expect(() => build({ batchSize: 50 })).toThrow(
      /invalid batchSize 50: batches above 10 need a maxBatchingWindow/,
    );
  });

  it('fails when it subscribes to nothing', () => {
    expect(() => build({ events: [] })).toThrow(/invalid events \[\]/);
  });

  it('matches every contract by its producer and type', () => {
    const { template: both } = build({ events: [OrderPlaced, OrderCancelled] });
    both.hasResourceProperties('AWS::Events::Rule', {
      Description: 'inventory ReserveStock: orders.OrderPlaced, orders.OrderCancelled',
      EventPattern: { source: ['shop.orders'], 'detail-type': ['OrderPlaced', 'OrderCancelled'] },
    });
  });

  it('fails when a contract is listed twice', () => {
    expect(() => build({ events: [OrderPlaced, OrderPlaced] })).toThrow(
      /EventSubscription: invalid events\[1\] "orders.OrderPlaced v1": is listed twice \(also events\[0\]\)/,
    );
  });

  it("fails when an event is given by name instead of its contract (the props' former shape)", () => {
    expect(() => build({ events: ['OrderPlaced' as unknown as EventContract] })).toThrow(
      /EventSubscription: invalid events\[0\] "OrderPlaced": pass the event contract object/,
    );
  });
});

const contract = (overrides: Partial<EventContract>): EventContract =>
  defineContract({
    type: 'PaymentCaptured',
    version: 1,
    producer: 'payments',
    description: 'A payment was captured.',
    schema: z.object({ paymentId: z.string() }),
    ...overrides,
  });

describe('EventType', () => {
  it("takes producer, name and version from the contract and derives the bus source from the app's name", () => {
    const type = EventType.fromContract(OrderPlaced);
    expect({ producer: type.producer, name: type.name, version: type.version }).toEqual({
      producer: 'orders',
      name: 'OrderPlaced',
      version: 1,
    });
    expect(type.sourceIn('Shop')).toBe('shop.orders');
    expect(String(type)).toBe('orders.OrderPlaced');
  });

  it('fails when the contract type is not PascalCase', () => {
    expect(() => EventType.fromContract(contract({ type: 'payment_captured' }))).toThrow(
      /EventType: invalid contract\.type "payment_captured": use a PascalCase event name/,
    );
  });

  it('fails when the contract producer is not a service name', () => {
    expect(() => EventType.fromContract(contract({ producer: 'Payments' }))).toThrow(
      /EventType: invalid contract\.producer "Payments": use the producing service name/,
    );
  });

  it('fails when the contract version is not a whole number of at least 1', () => {
    expect(() => EventType.fromContract(contract({ version: 0 }))).toThrow(
      /EventType: invalid contract\.version 0: must be a whole number of at least 1/,
    );
  });
});

describe('EventSubscription consumer overrides', () => {
  it('gives the consumer the role and the function props it is passed', () => {
    const stack = new Stack(appWithoutBundling(), 'Subscriber');
    const role = iam.Role.fromRoleArn(stack, 'Shared', 'arn:aws:iam::123456789012:role/consumer');
    const { template } = build(
      {
        role,
        functionProps: { architecture: lambda.Architecture.X86_64, environment: { FEATURE_FLAG: 'on' } },
      },
      stack,
    );
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: 'arn:aws:iam::123456789012:role/consumer',
      Architectures: ['x86_64'],
      Timeout: 20,
      Environment: {
        Variables: Match.objectLike({ FEATURE_FLAG: 'on', POWERTOOLS_SERVICE_NAME: 'inventory' }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['consumer'],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:DeleteMessage', 'sqs:ReceiveMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ReserveStockQueue'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('lets functionProps.timeout stand for timeout, the visibility timeout following it', () => {
    const { template } = build({ timeout: undefined, functionProps: { timeout: Duration.seconds(60) } });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 60 });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360 });
  });

  it('fails when timeout and functionProps.timeout differ, naming both', () => {
    expect(() => build({ functionProps: { timeout: Duration.seconds(60) } })).toThrow(
      /EventSubscription: invalid functionProps.timeout "1 minute": conflicts with timeout \("20 seconds"\)/,
    );
  });

  it("keeps the consumer's must-haves: an override switching off X-Ray fails", () => {
    expect(() => build({ functionProps: { tracing: lambda.Tracing.PASS_THROUGH } })).toThrow(
      /ServiceFunction: invalid functionProps.tracing "PassThrough"/,
    );
  });
});
