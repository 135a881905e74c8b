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
  /** The event's data as a JSON string. */
  DATA: 'data',
  /** Expiry (epoch seconds) for the table's TTL: outbox items are deleted after publication. */
  EXPIRES_AT: 'expiresAt',
} as const;

/** How long an outbox item stays in the table after it was written. */
export const OUTBOX_RETENTION_SECONDS = 24 * 60 * 60;
