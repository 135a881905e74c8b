import { setMaxListeners } from 'node:events';
import type { Message, MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { EmulatorClients } from './aws-clients';
import type { EmulatorEndpoint, Invoke, LocalQueueMapping } from './model';
import { chunks, describe, sleep } from './util';

/** Lambda reads at most 10 messages per ReceiveMessage. */
const MAX_RECEIVE = 10;
/** Concurrent batches per mapping when the mapping sets no maxConcurrency. */
const DEFAULT_CONCURRENCY = 4;
/** Pause after a failed receive before polling again. */
const ERROR_BACKOFF_MS = 1_000;
/** Connections to the emulator: one long poll per concurrent poller plus the deletes. */
const MAX_SOCKETS = 64;

/** Options of {@link QueuePoller}. */
export interface QueuePollerOptions {
  /**
   * Long-poll wait of each ReceiveMessage while running (0 to 20).
   * @default 5
   */
  readonly waitTimeSeconds?: number;
  /**
   * Visibility timeout given to messages that failed (listed in `batchItemFailures`, or the whole batch when
   * the invocation failed) so they are retried after this many seconds instead of the queue's full
   * visibility timeout. A value at or above the queue's visibility timeout keeps AWS's behaviour.
   * @default 1
   */
  readonly retryVisibilitySeconds?: number;
  /** Receives a line for every failed invocation or request. @default - written to stderr */
  readonly log?: (line: string) => void;
}

/** The Lambda SQS event (a subset of `aws-lambda`'s SQSEvent, built from a ReceiveMessage result). */
interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly messageAttributes: Record<string, LambdaMessageAttribute>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

interface LambdaMessageAttribute {
  readonly stringValue?: string;
  readonly binaryValue?: string;
  readonly stringListValues: string[];
  readonly binaryListValues: string[];
  readonly dataType: string;
}

/**
 * Drives SQS → function event source mappings the way Lambda does: receives batches (at most 10 messages per
 * ReceiveMessage, long polling while running, all system attributes so `ApproximateReceiveCount` is set),
 * invokes the function with the Lambda SQS event and then
 * - on success deletes the batch, except, with ReportBatchItemFailures, the messages listed in
 *   `batchItemFailures` (a response naming a message not in the batch fails the whole batch, as in Lambda);
 * - on an error or timeout deletes nothing.
 *
 * Unlike Lambda, messages left for a retry are not kept invisible for the queue's whole visibility timeout:
 * their visibility is changed to `retryVisibilitySeconds` (1 s by default) so local retries are quick.
 * Redrive to the dead-letter queue after `maxReceiveCount` receives is the emulator's (moto applies the
 * queue's RedrivePolicy when it receives). At most `maxConcurrency` batches of a mapping are in flight.
 */
export class QueuePoller {
  private readonly clients: EmulatorClients;
  private readonly waitTimeSeconds: number;
  private readonly retryVisibilitySeconds: number;
  private readonly log: (line: string) => void;
  private abort = new AbortController();
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly mappings: readonly LocalQueueMapping[],
    private readonly emulator: EmulatorEndpoint,
    private readonly invoke: Invoke,
    options: QueuePollerOptions = {},
  ) {
    this.clients = new EmulatorClients(emulator, { maxSockets: MAX_SOCKETS });
    this.waitTimeSeconds = Math.min(20, Math.max(0, options.waitTimeSeconds ?? 5));
    this.retryVisibilitySeconds = Math.max(0, options.retryVisibilitySeconds ?? 1);
    this.log = options.log ?? ((line) => process.stderr.write(`[queue-poller] ${line}\n`));
  }

  /** The SQS client, created on first use (and again after {@link stop} closed it). */
  private get sqs(): SQSClient {
    return this.clients.sqs;
  }

  /** Starts `maxConcurrency` polling loops per mapping (long polls; each loop runs one batch at a time). */
  start(): void {
    if (this.running.length > 0) return;
    this.stopping = false;
    this.abort = new AbortController();
    // Every polling loop listens on the one stop signal: more than Node's default of 10 listeners is expected.
    setMaxListeners(0, this.abort.signal);
    for (const mapping of this.mappings) {
      const loops = Math.max(1, mapping.maxConcurrency ?? DEFAULT_CONCURRENCY);
      for (let i = 0; i < loops; i++) this.running.push(this.loop(mapping));
    }
  }

  /**
   * Stops polling: cancels the waiting long polls, waits for batches in flight to finish and closes the
   * connections. A message the emulator hands to a cancelled long poll stays invisible for the queue's
   * visibility timeout.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.running);
    this.running = [];
    this.clients.destroy();
  }

  /**
   * One round over every mapping (for tests): one short-poll ReceiveMessage, the invocation and its deletes
   * or retries. Resolves to the number of messages handed to functions.
   */
  async drainOnce(): Promise<number> {
    const counts = await Promise.all(this.mappings.map((mapping) => this.pollOnce(mapping, 0)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async loop(mapping: LocalQueueMapping): Promise<void> {
    while (!this.stopping) {
      try {
        await this.pollOnce(mapping, this.waitTimeSeconds);
      } catch (error) {
        if (this.stopping) break;
        this.log(`${mapping.queueUrl}: ${describe(error)}`);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  /** Receives one batch, invokes the function with it and settles its messages. */
  private async pollOnce(mapping: LocalQueueMapping, waitTimeSeconds: number): Promise<number> {
    const { Messages: messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: mapping.queueUrl,
        MaxNumberOfMessages: Math.min(MAX_RECEIVE, Math.max(1, mapping.batchSize)),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      waitTimeSeconds > 0 ? { abortSignal: this.abort.signal } : {},
    );
    if (messages.length === 0) return 0;
    const records = messages.map((message) => this.recordOf(mapping, message));
    let failed: Set<string>;
    try {
      const response = await this.invoke(mapping.functionKey, { Records: records });
      failed = mapping.reportBatchItemFailures ? failuresOf(response, records) : new Set();
      if (failed.size > 0)
        this.log(`${mapping.functionKey}: ${failed.size} of ${records.length} messages failed`);
    } catch (error) {
      this.log(`${mapping.functionKey} failed on a batch of ${records.length}: ${describe(error)}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    const succeeded = records.filter((r) => !failed.has(r.messageId));
    const retried = records.filter((r) => failed.has(r.messageId));
    await Promise.all([this.delete(mapping, succeeded), this.retryLater(mapping, retried)]);
    return records.length;
  }

  private async delete(mapping: LocalQueueMapping, records: readonly SqsRecord[]): Promise<void> {
    for (const chunk of chunks(records, MAX_RECEIVE)) {
      const { Failed = [] } = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: mapping.queueUrl,
          Entries: chunk.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      for (const failure of Failed) this.log(`${mapping.queueUrl}: delete failed: ${failure.Message}`);
    }
  }

  private async retryLater(mapping: LocalQueueMapping, records: readonly SqsRecord[]): Promise<void> {
    if (this.retryVisibilitySeconds >= mapping.visibilityTimeoutSeconds) return;
    for (const chunk of chunks(records, MAX_RECEIVE)) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: mapping.queueUrl,
          Entries: chunk.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: this.retryVisibilitySeconds,
          })),
        }),
      );
    }
  }

  private recordOf(mapping: LocalQueueMapping, message: Message): SqsRecord {
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: { ...(message.Attributes ?? {}) },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          lambdaAttribute(value),
        ]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: mapping.queueArn,
      awsRegion: this.emulator.region,
    };
  }
}

/**
 * The message ids a partial batch response reports as failed. Like Lambda: no response, or no
 * `batchItemFailures`, means all succeeded; an entry without a valid id of the batch fails the whole batch.
 */
function failuresOf(response: unknown, records: readonly SqsRecord[]): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (response === null || response === undefined || typeof response !== 'object') return new Set();
  const items = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return all;
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    failed.add(id);
  }
  return failed;
}

/** An SQS message attribute as the Lambda event spells it. */
function lambdaAttribute(value: MessageAttributeValue): LambdaMessageAttribute {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return {
    ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { binaryValue: base64(value.BinaryValue) } : {}),
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(base64),
    dataType: value.DataType ?? 'String',
  };
}
