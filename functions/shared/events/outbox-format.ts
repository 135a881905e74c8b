/**
 * How an outbox event is stored in a service's table, shared by the writer (runtime kit) and the
 * TransactionalOutbox construct (stream filter and pipe input template). Change both sides together.
 */
export const OUTBOX_ITEM_TYPE = 'OUTBOX';

/** Attribute names of an outbox item. */
export const OutboxAttribute = {
  ITEM_TYPE: 'itemType',
  EVENT_ID: 'eventId',
  EVENT_TYPE: 'eventType',
  EVENT_VERSION: 'eventVersion',
  EVENT_SOURCE: 'eventSource',
  OCCURRED_AT: 'occurredAt',
  CORRELATION_ID: 'correlationId',
  /** The event's data, as {@link encodeOutboxData} writes it. */
  DATA: 'data',
  /** Expiry (epoch seconds) for the table's TTL: outbox items are deleted after publication. */
  EXPIRES_AT: 'expiresAt',
} as const;

/** Prefix of an encoded `data` attribute; never the start of JSON text, so older items stay readable. */
export const OUTBOX_DATA_PREFIX = 'base64:';

/**
 * The `data` attribute of an outbox item: `base64:` and the base64 of the data's JSON text. The pipe's input
 * template puts it inside a JSON string, and the EventBridge Pipes guide says only that quoted string
 * placeholders give valid JSON, not whether the value is escaped; base64 has no character JSON would escape,
 * so the envelope is the same either way.
 */
export function encodeOutboxData(data: unknown): string {
  return OUTBOX_DATA_PREFIX + Buffer.from(JSON.stringify(data), 'utf8').toString('base64');
}

/** The data of an envelope's `data` string: {@link encodeOutboxData}'s form, or plain JSON text (older items). */
export function decodeOutboxData(value: string): unknown {
  const text = value.startsWith(OUTBOX_DATA_PREFIX)
    ? Buffer.from(value.slice(OUTBOX_DATA_PREFIX.length), 'base64').toString('utf8')
    : value;
  return JSON.parse(text) as unknown;
}

/** How long an outbox item stays in the table after it was written. */
export const OUTBOX_RETENTION_SECONDS = 24 * 60 * 60;
