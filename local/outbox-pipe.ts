import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Shard } from '@aws-sdk/client-dynamodb-streams';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { EmulatorClients } from './aws-clients';
import type { EmulatorEndpoint, LocalPipe } from './model';
import { chunks, describe, sleep } from './util';

/** PutEvents and SendMessageBatch take at most 10 entries. */
const MAX_ENTRIES = 10;
const DEFAULT_POLL_INTERVAL_MS = 500;
const DEFAULT_RETRY_BASE_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;
const ERROR_BACKOFF_MS = 1_000;

/** Options of {@link OutboxPipe}. */
export interface OutboxPipeOptions {
  /** Receives a line for every failed delivery or request. @default - written to stderr */
  readonly log?: (line: string) => void;
  /**
   * Pause between polls of the stream when the last one found nothing new.
   * @default 500
   */
  readonly pollIntervalMs?: number;
  /**
   * First pause before retrying a failed PutEvents; doubles on each attempt (at most 2 s).
   * @default 100
   */
  readonly retryBaseDelayMs?: number;
  /**
   * SDK clients for the emulator to share with other pipes (their owner closes them).
   * @default - the pipe's own, closed by {@link OutboxPipe.stop}
   */
  readonly clients?: EmulatorClients;
  /**
   * Called after each batch put to the bus (an execution of the pipe, e.g. by the local alarms: Pipes
   * Invocations and ExecutionFailed) with its records and how many of them could not be delivered.
   * @default - nothing
   */
  readonly onBatch?: (
    pipe: LocalPipe,
    outcome: { readonly records: number; readonly failed: number },
  ) => void;
}

/** A stream record as the pipe sees it: plain JSON (dates as epoch seconds, binary as base64). */
type JsonRecord = Record<string, unknown>;

/** The outcome of one poll. */
export interface PollResult {
  /** Stream records read (matching the filters or not). */
  readonly read: number;
  /** Events put on the bus. */
  readonly delivered: number;
  /** Records sent to the dead-letter queue after the retries. */
  readonly deadLettered: number;
}

/**
 * A local EventBridge Pipe from a DynamoDB stream to an event bus (the transactional outbox): reads every
 * shard of the stream (from TRIM_HORIZON the first time, then after the last sequence number read), keeps
 * the records matching one of the filter patterns, renders the input template (or passes the record), sets
 * source and detail-type (static, or JSON paths into the record) and puts the events on the bus in batches
 * of at most 10. Failed entries are retried `maximumRetryAttempts` times (exponential pause from
 * `retryBaseDelayMs`); the records still failing are then sent, each as its stream record JSON, to the
 * dead-letter queue. The position only advances once a batch is delivered or dead-lettered (if the
 * dead-letter queue cannot be reached, the batch is read again on the next poll: delivery is at least once).
 */
export class OutboxPipe {
  private readonly clients: EmulatorClients;
  /** Whether the pipe created its clients (and closes them when it stops). */
  private readonly ownsClients: boolean;
  private readonly log: (line: string) => void;
  private readonly pollIntervalMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly onBatch: OutboxPipeOptions['onBatch'];
  private readonly filters: readonly Record<string, unknown>[];
  /** Last sequence number read, per shard. */
  private readonly positions = new Map<string, string>();
  private running?: Promise<void>;
  private stopping = false;
  private wake?: () => void;

  constructor(
    private readonly pipe: LocalPipe,
    emulator: EmulatorEndpoint,
    options: OutboxPipeOptions = {},
  ) {
    for (const pattern of pipe.filterPatterns) validatePattern(pattern);
    this.filters = pipe.filterPatterns;
    this.log = options.log ?? ((line) => process.stderr.write(`[pipe ${pipe.name}] ${line}\n`));
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    this.onBatch = options.onBatch;
    this.ownsClients = !options.clients;
    this.clients = options.clients ?? new EmulatorClients(emulator);
  }

  /** Polls the stream until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping) {
        let read = 0;
        try {
          read = (await this.poll()).read;
        } catch (error) {
          this.log(`polling ${this.pipe.streamArn} failed: ${describe(error)}`);
          await this.pause(ERROR_BACKOFF_MS);
          continue;
        }
        if (read === 0) await this.pause(this.pollIntervalMs);
      }
    })();
  }

  /** Stops polling after the batch in progress (if any) is delivered; closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
    if (this.ownsClients) this.clients.destroy();
  }

  /** Reads what is new on every shard and delivers it; resolves to the number of stream records read. */
  async pollOnce(): Promise<number> {
    return (await this.poll()).read;
  }

  /** Like {@link pollOnce}, with what became of the records. */
  async poll(): Promise<PollResult> {
    const total = { read: 0, delivered: 0, deadLettered: 0 };
    for (const shard of await this.shards()) {
      const shardId = shard.ShardId!;
      let iterator = await this.iteratorFor(shardId);
      while (iterator) {
        const { Records = [], NextShardIterator } = await this.clients.streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.max(1, this.pipe.batchSize) }),
        );
        if (Records.length === 0) break;
        const result = await this.deliver(
          Records.map((record) => ({
            ...(toJson(record) as JsonRecord),
            eventSourceARN: this.pipe.streamArn,
          })),
        );
        total.read += Records.length;
        total.delivered += result.delivered;
        total.deadLettered += result.deadLettered;
        this.positions.set(shardId, Records[Records.length - 1].dynamodb!.SequenceNumber!);
        iterator = NextShardIterator;
      }
    }
    return total;
  }

  private async shards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.clients.streams.send(
        new DescribeStreamCommand({
          StreamArn: this.pipe.streamArn,
          ExclusiveStartShardId: exclusiveStartShardId,
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    // Parents before children, so a key's records stay in order across a shard split.
    const ids = new Set(shards.map((s) => s.ShardId));
    const roots = shards.filter((s) => !s.ParentShardId || !ids.has(s.ParentShardId));
    const ordered: Shard[] = [];
    const visit = (shard: Shard) => {
      ordered.push(shard);
      for (const child of shards.filter((s) => s.ParentShardId === shard.ShardId)) visit(child);
    };
    roots.forEach(visit);
    return ordered;
  }

  private async iteratorFor(shardId: string): Promise<string | undefined> {
    const after = this.positions.get(shardId);
    const { ShardIterator } = await this.clients.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.pipe.streamArn,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  /**
   * Delivers an INSERT only if its item is still in the table. Outbox items are only deleted by TTL, a day
   * later, so a missing item means a write the emulator undid (moto restores a copy of the table when it
   * cancels a transaction; an end-to-end run once saw a StockReserved from a reservation that was refused),
   * which DynamoDB would never have streamed.
   */
  private async committedOnly(records: JsonRecord[]): Promise<JsonRecord[]> {
    const kept: JsonRecord[] = [];
    for (const record of records) {
      const change = record.dynamodb as { Keys?: Record<string, AttributeValue> } | undefined;
      if (record.eventName !== 'INSERT' || !change?.Keys) {
        kept.push(record);
        continue;
      }
      const { Item } = await this.clients.dynamodb.send(
        new GetItemCommand({ TableName: this.pipe.tableName, Key: change.Keys, ConsistentRead: true }),
      );
      if (Item) kept.push(record);
      else
        this.log(
          `skipped record ${String(record.eventID)}: its item is not in the table (a cancelled transaction)`,
        );
    }
    return kept;
  }

  /** Filters, transforms and puts one batch of records; dead-letters what cannot be put. */
  private async deliver(records: JsonRecord[]): Promise<{ delivered: number; deadLettered: number }> {
    const matching = await this.committedOnly(
      records.filter(
        (record) =>
          this.filters.length === 0 || this.filters.some((pattern) => matchesPattern(pattern, record)),
      ),
    );
    let delivered = 0;
    let deadLettered = 0;
    for (const chunk of chunks(matching, MAX_ENTRIES)) {
      const failed: JsonRecord[] = [];
      const entries: Array<{ record: JsonRecord; entry: PutEventsRequestEntry }> = [];
      for (const record of chunk) {
        try {
          entries.push({ record, entry: this.entryOf(record) });
        } catch (error) {
          this.log(`record ${String(record.eventID)} cannot be transformed: ${describe(error)}`);
          failed.push(record);
        }
      }
      const unput = await this.put(entries);
      delivered += entries.length - unput.length;
      failed.push(...unput);
      this.onBatch?.(this.pipe, { records: chunk.length, failed: failed.length });
      if (failed.length > 0) {
        await this.deadLetter(failed);
        deadLettered += failed.length;
      }
    }
    return { delivered, deadLettered };
  }

  /** Puts the entries, retrying failed ones; resolves to the records that were still not put. */
  private async put(
    entries: Array<{ record: JsonRecord; entry: PutEventsRequestEntry }>,
  ): Promise<JsonRecord[]> {
    let pending = entries;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        // -1 means "retry until the record expires" in AWS: unbounded here.
        if (this.pipe.maximumRetryAttempts >= 0 && attempt > this.pipe.maximumRetryAttempts) break;
        await sleep(Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** (attempt - 1)));
      }
      try {
        const { FailedEntryCount = 0, Entries = [] } = await this.clients.events.send(
          new PutEventsCommand({ Entries: pending.map((p) => p.entry) }),
        );
        if (FailedEntryCount === 0) return [];
        const failures = Entries.map((e, i) => ({ e, p: pending[i] })).filter(({ e }) => e.ErrorCode);
        this.log(
          `PutEvents attempt ${attempt + 1}: ${failures.length} entries failed (${failures[0]?.e.ErrorCode}: ${failures[0]?.e.ErrorMessage})`,
        );
        pending = failures.map(({ p }) => p);
      } catch (error) {
        this.log(`PutEvents attempt ${attempt + 1} failed: ${describe(error)}`);
      }
    }
    return pending.map((p) => p.record);
  }

  private async deadLetter(records: JsonRecord[]): Promise<void> {
    const queueUrl = this.pipe.deadLetterQueueUrl;
    if (!queueUrl) {
      this.log(`${records.length} records dropped: the pipe has no dead-letter queue`);
      return;
    }
    const { Failed = [] } = await this.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: records.map((record, i) => ({ Id: String(i), MessageBody: JSON.stringify(record) })),
      }),
    );
    if (Failed.length > 0) throw new Error(`Sending to the dead-letter queue failed: ${Failed[0].Message}`);
    this.log(`${records.length} records sent to the dead-letter queue ${queueUrl}`);
  }

  private entryOf(record: JsonRecord): PutEventsRequestEntry {
    const detail = this.pipe.inputTemplate
      ? renderInputTemplate(this.pipe.inputTemplate, record, { pipeName: this.pipe.name })
      : JSON.stringify(record);
    return {
      EventBusName: this.pipe.eventBusName,
      Source: resolveValue(this.pipe.source, record),
      DetailType: resolveValue(this.pipe.detailType, record),
      Detail: detail,
    };
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** The operators of EventBridge patterns this implementation knows. */
const OPERATORS = new Set(['prefix', 'suffix', 'exists', 'anything-but', 'equals-ignore-case', 'numeric']);

/**
 * Whether `event` matches an EventBridge event pattern. Supported: nested objects, arrays of exact values
 * (strings, numbers, booleans, null), and the operators `prefix`, `suffix`, `exists`, `anything-but` (a
 * value, a list of values or `{ prefix }`), `equals-ignore-case` and `numeric` (comparisons `<`, `<=`, `=`,
 * `>=`, `>`). A field holding an array matches when any of its elements does.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  const object = isPlainObject(event) ? event : undefined;
  return Object.entries(pattern).every(([key, rule]) => {
    const value = object?.[key];
    if (Array.isArray(rule)) return rule.some((candidate) => matchesValue(candidate, value));
    if (isPlainObject(rule)) return matchesPattern(rule, value);
    throw new Error(`Pattern field ${key} must be an array or an object`);
  });
}

/** Throws on a pattern using something {@link matchesPattern} does not implement. */
export function validatePattern(pattern: Record<string, unknown>): void {
  for (const [key, rule] of Object.entries(pattern)) {
    if (isPlainObject(rule)) validatePattern(rule);
    else if (Array.isArray(rule)) {
      for (const candidate of rule) {
        if (!isPlainObject(candidate)) continue;
        const operators = Object.keys(candidate);
        if (operators.length !== 1 || !OPERATORS.has(operators[0]))
          throw new Error(`Unsupported pattern operator in ${key}: ${JSON.stringify(candidate)}`);
      }
    } else throw new Error(`Pattern field ${key} must be an array or an object`);
  }
}

function matchesValue(candidate: unknown, value: unknown): boolean {
  if (isPlainObject(candidate) && 'exists' in candidate) {
    const present = value !== undefined && !isPlainObject(value);
    return candidate.exists === present;
  }
  if (value === undefined || isPlainObject(value)) return false;
  if (Array.isArray(value)) return value.some((element) => matchesValue(candidate, element));
  if (!isPlainObject(candidate)) return candidate === value;
  const [operator, argument] = Object.entries(candidate)[0] ?? [];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && typeof argument === 'string' && value.startsWith(argument);
    case 'suffix':
      return typeof value === 'string' && typeof argument === 'string' && value.endsWith(argument);
    case 'equals-ignore-case':
      return (
        typeof value === 'string' &&
        typeof argument === 'string' &&
        value.toLowerCase() === argument.toLowerCase()
      );
    case 'anything-but': {
      if (isPlainObject(argument)) return !matchesValue(argument, value);
      const excluded = Array.isArray(argument) ? argument : [argument];
      return !excluded.some((x) => x === value);
    }
    case 'numeric':
      return typeof value === 'number' && Array.isArray(argument) && matchesNumeric(argument, value);
    default:
      throw new Error(`Unsupported pattern operator ${String(operator)}`);
  }
}

function matchesNumeric(conditions: unknown[], value: number): boolean {
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    const ok = {
      '<': value < bound,
      '<=': value <= bound,
      '=': value === bound,
      '>=': value >= bound,
      '>': value > bound,
    }[conditions[i] as string];
    if (!ok) return false;
  }
  return true;
}

/** Reserved variables of a pipe's input template that {@link renderInputTemplate} knows. */
export interface TemplateContext {
  readonly pipeName: string;
  /** @default now */
  readonly ingestionTime?: Date;
}

/**
 * Renders an EventBridge Pipes input template for one event. A `<$.json.path>` placeholder inside a JSON
 * string is replaced by the value as string content (JSON-escaped; objects and arrays as their JSON text);
 * outside a string by the value's JSON. A path that does not exist renders as an empty string inside quotes
 * and `null` outside. Reserved variables: `<aws.pipes.pipe-name>`, `<aws.pipes.event>`,
 * `<aws.pipes.event.json>` and `<aws.pipes.event.ingestion-time>`.
 */
export function renderInputTemplate(template: string, event: unknown, context: TemplateContext): string {
  let output = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const char = template[i];
    if (char === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (name.startsWith('$') || name.startsWith('aws.pipes.')) {
        const value = name.startsWith('$') ? resolvePath(name, event) : reserved(name, event, context);
        output += inString ? asStringContent(value) : JSON.stringify(value ?? null);
        i = end;
        continue;
      }
    }
    if (char === '\\' && inString) {
      output += char + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (char === '"') inString = !inString;
    output += char;
  }
  return output;
}

function reserved(name: string, event: unknown, context: TemplateContext): unknown {
  switch (name) {
    case 'aws.pipes.pipe-name':
      return context.pipeName;
    case 'aws.pipes.event':
    case 'aws.pipes.event.json':
      return event;
    case 'aws.pipes.event.ingestion-time':
      return (context.ingestionTime ?? new Date()).toISOString();
    default:
      throw new Error(`Unsupported reserved variable <${name}>`);
  }
}

function asStringContent(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(text).slice(1, -1);
}

/**
 * The value at a JSON path (`$`, `$.a.b`, `$.a[0]`, `$['a']`) of `data`; `undefined` when it does not exist.
 */
export function resolvePath(path: string, data: unknown): unknown {
  if (!path.startsWith('$')) throw new Error(`${path} is not a JSON path`);
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g)];
  const consumed = steps.map((s) => s[0]).join('');
  if (consumed !== path.slice(1)) throw new Error(`Unsupported JSON path ${path}`);
  let current: unknown = data;
  for (const step of steps) {
    const key = step[1] ?? step[3] ?? step[4] ?? Number(step[2]);
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A static value, or the string at a JSON path (`$.dynamodb.NewImage.eventType.S`). */
function resolveValue(spec: string, record: JsonRecord): string {
  if (!spec.startsWith('$.')) return spec;
  const value = resolvePath(spec, record);
  if (value === undefined || value === null) throw new Error(`The record has no ${spec}`);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The SDK's record as plain JSON, as Pipes presents it (dates in epoch seconds, binary as base64). */
function toJson(value: unknown): unknown {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Set) return [...value].map(toJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toJson(v)]),
    );
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
