import type { SQSEvent } from 'aws-lambda';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { EmulatorEndpoint, Invoke, LocalQueueMapping } from '../../local/model';
import { QueuePoller } from '../../local/queue-poller';
import type { Moto } from '../support/moto';
import { startMoto } from '../support/moto';

const VISIBILITY_TIMEOUT = 30;

describe('QueuePoller (against moto)', () => {
  let moto: Moto;
  let emulator: EmulatorEndpoint;
  let sqs: SQSClient;
  const logs: string[] = [];
  let queueCounter = 0;

  beforeAll(async () => {
    moto = await startMoto();
    emulator = {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    };
    sqs = new SQSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });

  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  /** A queue with a dead-letter queue after `maxReceiveCount` receives, and its mapping. */
  async function queueWithDlq(
    maxReceiveCount: number,
    mapping: Partial<LocalQueueMapping> = {},
  ): Promise<{ mapping: LocalQueueMapping; dlqUrl: string }> {
    const name = `consumer-${++queueCounter}`;
    const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const dlqArn = await arnOf(dlqUrl!);
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(VISIBILITY_TIMEOUT),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
        },
      }),
    );
    return {
      dlqUrl: dlqUrl!,
      mapping: {
        queueUrl: queueUrl!,
        queueArn: await arnOf(queueUrl!),
        functionKey: 'Shipping/Consumer',
        batchSize: 10,
        reportBatchItemFailures: true,
        visibilityTimeoutSeconds: VISIBILITY_TIMEOUT,
        ...mapping,
      },
    };
  }

  async function arnOf(queueUrl: string): Promise<string> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    return Attributes!.QueueArn!;
  }

  async function sendAll(queueUrl: string, bodies: string[]): Promise<void> {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
  }

  /** Every message of a queue (receives them with a 0 s visibility so they stay). */
  async function peek(queueUrl: string): Promise<string[]> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    return Messages.map((m) => m.Body!).sort();
  }

  /** A consumer that reports bodies starting with `poison` as failed, and records what it saw. */
  function consumer() {
    const seen: SQSEvent[] = [];
    const invoke: Invoke = async (_key, event) => {
      const sqsEvent = event as SQSEvent;
      seen.push(sqsEvent);
      return {
        batchItemFailures: sqsEvent.Records.filter((r) => r.body.startsWith('poison')).map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    };
    const bodies = () => seen.flatMap((e) => e.Records.map((r) => r.body));
    return { invoke, seen, bodies };
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('builds the Lambda SQS event and deletes all but the failed messages of a partial batch', async () => {
    const { mapping } = await queueWithDlq(5);
    const { invoke, seen } = consumer();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: mapping.queueUrl,
        MessageBody: 'first',
        MessageAttributes: { traceparent: { DataType: 'String', StringValue: 'abc' } },
      }),
    );
    await sendAll(mapping.queueUrl, ['second', 'poison-1']);
    const poller = new QueuePoller([mapping], emulator, invoke, { log: (l) => logs.push(l) });

    expect(await poller.drainOnce()).toBe(3);
    expect(seen).toHaveLength(1);
    const first = seen[0].Records.find((r) => r.body === 'first')!;
    expect(first).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: mapping.queueArn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        traceparent: { stringValue: 'abc', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
    });
    expect(first.messageId).toEqual(expect.any(String));
    expect(first.receiptHandle).toEqual(expect.any(String));
    expect(first.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(first.attributes.SentTimestamp).toMatch(/^\d+$/);

    // Only the failed message is left; it is visible again after the short retry visibility, not 30 s.
    await sleep(1_300);
    expect(await peek(mapping.queueUrl)).toEqual(['poison-1']);
  });

  it('after maxReceiveCount receives moves a poison message to the DLQ; the others are processed once', async () => {
    const { mapping, dlqUrl } = await queueWithDlq(2);
    const { invoke, seen, bodies } = consumer();
    await sendAll(mapping.queueUrl, ['a', 'poison-2', 'b', 'c']);
    const poller = new QueuePoller([mapping], emulator, invoke, { log: (l) => logs.push(l) });

    expect(await poller.drainOnce()).toBe(4);
    await sleep(1_300);
    expect(await poller.drainOnce()).toBe(1);
    expect(seen[1].Records[0]).toMatchObject({
      body: 'poison-2',
      attributes: { ApproximateReceiveCount: '2' },
    });
    await sleep(1_300);
    // The third receive finds it received maxReceiveCount times: moto redrives it instead of delivering it.
    expect(await poller.drainOnce()).toBe(0);

    expect(bodies().sort()).toEqual(['a', 'b', 'c', 'poison-2', 'poison-2']);
    expect(await peek(dlqUrl)).toEqual(['poison-2']);
    expect(await peek(mapping.queueUrl)).toEqual([]);
  });

  it('deletes nothing when the invocation fails (error or timeout)', async () => {
    const { mapping } = await queueWithDlq(5);
    const invoke: Invoke = async () => {
      throw new Error('Task timed out after 1 seconds');
    };
    await sendAll(mapping.queueUrl, ['x', 'y']);
    const poller = new QueuePoller([mapping], emulator, invoke, { log: (l) => logs.push(l) });
    expect(await poller.drainOnce()).toBe(2);
    expect(logs.some((l) => l.includes('Task timed out after 1 seconds'))).toBe(true);
    await sleep(1_300);
    expect(await peek(mapping.queueUrl)).toEqual(['x', 'y']);
  });

  it('without ReportBatchItemFailures a successful batch is deleted whatever the response says', async () => {
    const { mapping } = await queueWithDlq(5, { reportBatchItemFailures: false });
    const { invoke } = consumer();
    await sendAll(mapping.queueUrl, ['ok', 'poison-3']);
    const poller = new QueuePoller([mapping], emulator, invoke, { log: (l) => logs.push(l) });
    expect(await poller.drainOnce()).toBe(2);
    await sleep(1_300);
    expect(await peek(mapping.queueUrl)).toEqual([]);
  });

  it('when started, long-polls every queue with at most maxConcurrency invocations in flight', async () => {
    const { mapping } = await queueWithDlq(5, { batchSize: 1, maxConcurrency: 2 });
    let inFlight = 0;
    let maxInFlight = 0;
    const handled: string[] = [];
    const invoke: Invoke = async (_key, event) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(50);
      handled.push(...(event as SQSEvent).Records.map((r) => r.body));
      inFlight -= 1;
      return { batchItemFailures: [] };
    };
    const poller = new QueuePoller([mapping], emulator, invoke, {
      waitTimeSeconds: 1,
      log: (l) => logs.push(l),
    });
    poller.start();
    const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
    await sendAll(mapping.queueUrl, bodies.slice(0, 10));
    await sendAll(mapping.queueUrl, bodies.slice(10));
    const deadline = Date.now() + 15_000;
    while (handled.length < bodies.length && Date.now() < deadline) await sleep(50);
    const stopping = Date.now();
    await poller.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(handled.sort()).toEqual([...bodies].sort());
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(maxInFlight).toBe(2);
    expect(await peek(mapping.queueUrl)).toEqual([]);
  });
});
