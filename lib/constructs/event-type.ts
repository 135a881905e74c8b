import type { EventContract } from '../../functions/shared/events/contract';
import { fail, requireContract } from './validation';

/**
 * What the constructs use of an event contract at synth: the producing service, the event name and the
 * version, never the schema (which stays with the handlers). Obtained from the contract object, so that a
 * misspelled event cannot compile: `EventType.fromContract(OrderPlaced)`. On the bus its `source` is
 * `{app}.{producer}` (lowercase) and its `detail-type` is the name.
 *
 * {@link Microservice} and {@link EventSubscription} take the contracts themselves (`publishes`, `events`);
 * this class is what they derive from them, for apps that build their own rules or filters.
 */
export class EventType {
  /**
   * The event type a contract describes. Fails, naming the field and its value, when the contract's `type`
   * is not PascalCase, its `producer` is not a service name or its `version` is not a whole number ≥ 1.
   */
  public static fromContract(contract: EventContract): EventType {
    requireContract('EventType', 'contract', contract);
    return new EventType(contract.producer, contract.type, contract.version);
  }

  private constructor(
    /** The producing service (the contract's `producer`). */
    public readonly producer: string,
    /** The event name (the contract's `type`; `detail-type` on the bus). */
    public readonly name: string,
    /** The contract's schema version. */
    public readonly version: number,
  ) {}

  /** The EventBridge `source` of this event in application `appName`. */
  public sourceIn(appName: string): string {
    return EventType.sourceOf(appName, this.producer);
  }

  /** `{app}.{service}` in lowercase: the EventBridge source of every event a service publishes. */
  public static sourceOf(appName: string, serviceName: string): string {
    if (!appName) fail('EventType', 'appName', appName, 'must not be empty');
    return `${appName}.${serviceName}`.toLowerCase();
  }

  /** True when `other` is the same event: same producer, name and version. */
  public equals(other: EventType): boolean {
    return this.producer === other.producer && this.name === other.name && this.version === other.version;
  }

  /** `{producer}.{name}`, e.g. `orders.OrderPlaced`. */
  public toString(): string {
    return `${this.producer}.${this.name}`;
  }
}
