import type { $ZodType, output } from 'zod/v4/core';

/**
 * An event contract: one zod schema per event type, shared by the producer (which validates before writing to
 * its outbox) and every consumer (which parses with the same schema). A breaking change is a new version.
 */
export interface EventContract<TSchema extends $ZodType = $ZodType> {
  /** Event name, also the EventBridge detail-type, in PascalCase (e.g. `OrderPlaced`). */
  readonly type: string;
  /** Schema version; consumers accept only versions they know. */
  readonly version: number;
  /** The only service that publishes it. */
  readonly producer: string;
  /** What happened, in the domain's words. */
  readonly description: string;
  /** The shape of `data`. */
  readonly schema: TSchema;
}

/** The data type of a contract. */
export type DataOf<C extends EventContract> = output<C['schema']>;

/**
 * Defines an event contract. Use `zod/mini` schemas so that handlers importing the contract stay small:
 *
 * ```ts
 * import * as z from 'zod/mini';
 * export const PaymentCaptured = defineContract({
 *   type: 'PaymentCaptured', version: 1, producer: 'payments',
 *   description: 'A payment was captured.',
 *   schema: z.object({ paymentId: z.uuid(), orderId: z.uuid() }),
 * });
 * ```
 */
export function defineContract<TSchema extends $ZodType>(
  definition: EventContract<TSchema>,
): EventContract<TSchema> {
  return definition;
}
