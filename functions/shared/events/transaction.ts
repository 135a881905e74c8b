import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { parse } from 'zod/mini';
import type { EventContract } from './contract';
import { requiredEnv } from '../env';
import type { EventEnvelope } from './envelope';
import { newEnvelope } from './envelope';
import {
  encodeOutboxData,
  OUTBOX_ITEM_TYPE,
  OUTBOX_RETENTION_SECONDS,
  OutboxAttribute,
} from './outbox-format';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Where a service's items live: its table and key attribute names (set by the Microservice construct). */
export interface TableLayout {
  /** The table's name. */
  readonly tableName: string;
  /** Name of the partition key attribute. */
  readonly partitionKey: string;
  /**
   * Name of the sort key attribute.
   * @default - the table has no sort key
   */
  readonly sortKey?: string;
}

/** The table layout from the function's environment (TABLE_NAME, TABLE_PARTITION_KEY, TABLE_SORT_KEY). */
export function tableLayoutFromEnv(): TableLayout {
  return {
    tableName: requiredEnv('TABLE_NAME'),
    partitionKey: requiredEnv('TABLE_PARTITION_KEY'),
    sortKey: process.env.TABLE_SORT_KEY || undefined,
  };
}

/** The key of an item: `{ [partitionKey]: pk, [sortKey]: sk ?? pk }` (tables without a sort key get only pk). */
export function keyOf(layout: TableLayout, pk: string, sk?: string): Record<string, string> {
  return layout.sortKey
    ? { [layout.partitionKey]: pk, [layout.sortKey]: sk ?? pk }
    : { [layout.partitionKey]: pk };
}

/** The transaction was refused because a condition failed; `reasons` has one code per item (`None` if fine). */
export class TransactionConflictError extends Error {
  constructor(
    public readonly reasons: readonly string[],
    public readonly labels: readonly string[],
  ) {
    super(`Transaction cancelled: ${reasons.map((r, i) => `${labels[i]}=${r}`).join(', ')}`);
    this.name = 'TransactionConflictError';
  }

  /** Whether the item labelled `label` failed its condition. */
  failed(label: string): boolean {
    return this.labels.some((l, i) => l === label && this.reasons[i] === 'ConditionalCheckFailed');
  }
}

/** The idempotency marker of this transaction already exists: the work was done before. */
export class AlreadyProcessedError extends Error {
  constructor(public readonly marker: string) {
    super(`Already processed: ${marker}`);
    this.name = 'AlreadyProcessedError';
  }
}

const MARKER = 'idempotency-marker';

/**
 * A unit of work on a service's table: state changes, outbox events and (optionally) an idempotency
 * marker, committed together in one `TransactWriteItems`. Either the new state and its events are both
 * stored, or neither is; the stream → pipe → bus path then publishes the events (never `PutEvents` here).
 */
export class DomainTransaction {
  private readonly items: TransactItem[] = [];
  private readonly labels: string[] = [];
  private readonly envelopes: EventEnvelope[] = [];
  private markerKey?: string;

  constructor(
    private readonly layout: TableLayout,
    private readonly source: string,
    private readonly correlationId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The key of an item in this table: `{ [partitionKey]: pk, [sortKey]: sk ?? pk }`. */
  key(pk: string, sk?: string): Record<string, string> {
    return keyOf(this.layout, pk, sk);
  }

  /** Adds a Put of `item` (which must contain its key). */
  put(label: string, item: Record<string, unknown>, condition?: Condition): this {
    return this.add(label, {
      Put: { TableName: this.layout.tableName, Item: item, ...conditionOf(condition) },
    });
  }

  /** Adds an Update of the item with `key`. */
  update(
    label: string,
    key: Record<string, unknown>,
    update: string,
    condition?: Condition,
    values?: Record<string, unknown>,
    names?: Record<string, string>,
  ): this {
    const merged = mergeExpressions(condition, values, names);
    return this.add(label, {
      Update: { TableName: this.layout.tableName, Key: key, UpdateExpression: update, ...merged },
    });
  }

  /** Validates `data` against the event's contract and adds the event to the outbox. */
  publish<C extends EventContract>(contract: C, data: unknown): EventEnvelope {
    const parsed = parse(contract.schema, data);
    const envelope = newEnvelope({
      type: contract.type,
      version: contract.version,
      source: this.source,
      correlationId: this.correlationId,
      data: parsed,
      now: this.now(),
    });
    this.envelopes.push(envelope);
    const item: Record<string, unknown> = {
      ...this.key(`OUTBOX#${envelope.id}`),
      [OutboxAttribute.ITEM_TYPE]: OUTBOX_ITEM_TYPE,
      [OutboxAttribute.EVENT_ID]: envelope.id,
      [OutboxAttribute.EVENT_TYPE]: envelope.type,
      [OutboxAttribute.EVENT_VERSION]: envelope.version,
      [OutboxAttribute.EVENT_SOURCE]: envelope.source,
      [OutboxAttribute.OCCURRED_AT]: envelope.occurredAt,
      [OutboxAttribute.CORRELATION_ID]: envelope.correlationId,
      [OutboxAttribute.DATA]: encodeOutboxData(envelope.data),
      [OutboxAttribute.EXPIRES_AT]: Math.floor(this.now().getTime() / 1000) + OUTBOX_RETENTION_SECONDS,
    };
    this.put(`outbox:${envelope.type}`, item, {
      expression: `attribute_not_exists(#pk)`,
      names: { '#pk': this.layout.partitionKey },
    });
    return envelope;
  }

  /**
   * Makes the transaction idempotent: it also writes `marker` (e.g. `EVENT#{eventId}`), and fails with
   * {@link AlreadyProcessedError} if the marker exists, so a redelivered message or a retried request has
   * one effect. `result` is kept with the marker for callers that must answer a retry with the first result.
   */
  idempotent(marker: string, result?: Record<string, unknown>): this {
    this.markerKey = marker;
    return this.put(
      MARKER,
      {
        ...this.key(`PROCESSED#${marker}`),
        itemType: 'PROCESSED',
        result: result ?? {},
        [OutboxAttribute.EXPIRES_AT]: Math.floor(this.now().getTime() / 1000) + 7 * 24 * 60 * 60,
      },
      { expression: 'attribute_not_exists(#pk)', names: { '#pk': this.layout.partitionKey } },
    );
  }

  /** Events added so far. */
  get events(): readonly EventEnvelope[] {
    return this.envelopes;
  }

  /** Commits everything in one TransactWriteItems call. */
  async commit(client: DynamoDBDocumentClient): Promise<void> {
    if (this.items.length === 0) return;
    try {
      await client.send(new TransactWriteCommand({ TransactItems: this.items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
        const conflict = new TransactionConflictError(reasons, this.labels);
        if (this.markerKey && conflict.failed(MARKER)) throw new AlreadyProcessedError(this.markerKey);
        throw conflict;
      }
      throw error;
    }
  }

  private add(label: string, item: TransactItem): this {
    if (this.items.length >= 100) throw new Error('A DynamoDB transaction holds at most 100 items');
    this.items.push(item);
    this.labels.push(label);
    return this;
  }
}

/** A condition expression with its placeholders. */
export interface Condition {
  /** The DynamoDB condition expression. */
  readonly expression: string;
  /**
   * Values of its `:placeholders`.
   * @default - none
   */
  readonly values?: Record<string, unknown>;
  /**
   * Attribute names of its `#placeholders`.
   * @default - none
   */
  readonly names?: Record<string, string>;
}

function conditionOf(condition?: Condition) {
  if (!condition) return {};
  return {
    ConditionExpression: condition.expression,
    ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
    ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
  };
}

function mergeExpressions(
  condition?: Condition,
  values?: Record<string, unknown>,
  names?: Record<string, string>,
) {
  const allValues = { ...(values ?? {}), ...(condition?.values ?? {}) };
  const allNames = { ...(names ?? {}), ...(condition?.names ?? {}) };
  return {
    ...(condition ? { ConditionExpression: condition.expression } : {}),
    ...(Object.keys(allValues).length ? { ExpressionAttributeValues: allValues } : {}),
    ...(Object.keys(allNames).length ? { ExpressionAttributeNames: allNames } : {}),
  };
}

/** The result stored with an idempotency marker, if the marker exists. */
export async function processedResult(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  marker: string,
): Promise<Record<string, unknown> | undefined> {
  const key = keyOf(layout, `PROCESSED#${marker}`);
  const { Item } = await client.send(
    new GetCommand({ TableName: layout.tableName, Key: key, ConsistentRead: true }),
  );
  return Item ? ((Item.result as Record<string, unknown>) ?? {}) : undefined;
}

/** A unit of work for an API request in this service, carrying the request's correlation id into its events. */
export function requestTransaction(correlationId: string): DomainTransaction {
  return new DomainTransaction(tableLayoutFromEnv(), requiredEnv('EVENT_SOURCE'), correlationId);
}
