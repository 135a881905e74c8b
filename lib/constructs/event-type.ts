import { fail, requireMatch } from './validation';

const EVENT_NAME = /^[A-Z][A-Za-z0-9]{1,63}$/;
const SERVICE_NAME = /^[a-z][a-z0-9-]{1,30}$/;

/**
 * A domain event type: the service that produces it and its PascalCase name, e.g.
 * `EventType.of('orders', 'OrderPlaced')`. On the bus its `source` is `{app}.{producer}` (lowercase) and
 * its `detail-type` is the name.
 */
export class EventType {
  /** An event named `name` produced by the service `producer`. */
  public static of(producer: string, name: string): EventType {
    requireMatch('EventType', 'producer', producer, SERVICE_NAME, 'use the producing service name');
    requireMatch('EventType', 'name', name, EVENT_NAME, 'use a PascalCase name such as OrderPlaced');
    return new EventType(producer, name);
  }

  private constructor(
    /** The producing service. */
    public readonly producer: string,
    /** The event name (`detail-type` on the bus). */
    public readonly name: string,
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

  public toString(): string {
    return `${this.producer}.${this.name}`;
  }
}
