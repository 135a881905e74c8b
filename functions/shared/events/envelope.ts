import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import '../schema';
import { decodeOutboxData } from './outbox-format';

/**
 * The envelope every domain event travels in, from the producer's outbox to every consumer.
 * `source` is `{app}.{service}`, `type` the event name (also the EventBridge detail-type).
 */
export interface EventEnvelope<TData = unknown> {
  /** Unique id of the event (consumers deduplicate on it). */
  readonly id: string;
  /** Event name: the contract's `type`, EventBridge detail-type. */
  readonly type: string;
  /** The contract's schema version. */
  readonly version: number;
  /** `{app}.{producer}` in lowercase. */
  readonly source: string;
  /** When it happened (ISO 8601). */
  readonly occurredAt: string;
  /** Id carried from the request that caused it, through every event it leads to. */
  readonly correlationId: string;
  /** The payload, shaped by the contract's schema. */
  readonly data: TData;
}

/** `data` may arrive as the string the outbox stored (the pipe's input template quotes it): base64 or JSON text. */
const jsonData = z.pipe(
  z.transform((value: unknown) => {
    if (typeof value !== 'string') return value;
    try {
      return decodeOutboxData(value);
    } catch {
      return value;
    }
  }),
  z.record(z.string(), z.unknown()),
);

/** Validates an envelope as it arrives on the bus (version may be a string there). */
export const EnvelopeSchema = z.object({
  id: z.string().check(z.minLength(1)),
  type: z.string().check(z.regex(/^[A-Z][A-Za-z0-9]+$/)),
  version: z.coerce.number().check(z.int(), z.minimum(1)),
  source: z.string().check(z.minLength(1)),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().check(z.minLength(1)),
  data: jsonData,
});

/** Builds a new envelope for an event about to be written to the outbox. */
export function newEnvelope<TData>(args: {
  type: string;
  version: number;
  source: string;
  correlationId: string;
  data: TData;
  now?: Date;
  id?: string;
}): EventEnvelope<TData> {
  return {
    id: args.id ?? randomUUID(),
    type: args.type,
    version: args.version,
    source: args.source,
    occurredAt: (args.now ?? new Date()).toISOString(),
    correlationId: args.correlationId,
    data: args.data,
  };
}
