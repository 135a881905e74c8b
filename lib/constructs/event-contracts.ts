// Internal to the constructs (not exported from lib/index.ts): how props holding event contracts are read.
import type { EventContract } from '../../functions/shared/events/contract';
import { EventType } from './event-type';
import { fail, requireContract } from './validation';

/**
 * The event types of the contracts a prop holds, each checked with the prop named in the error
 * (`{prop}[i].type`, `.producer`, `.version`); a contract listed twice (same producer, type and version)
 * fails too.
 */
export function eventTypesOf(
  construct: string,
  prop: string,
  contracts: readonly EventContract[],
): EventType[] {
  const types: EventType[] = [];
  contracts.forEach((contract, i) => {
    requireContract(construct, `${prop}[${i}]`, contract);
    const type = EventType.fromContract(contract);
    const twin = types.findIndex((t) => t.equals(type));
    if (twin >= 0) {
      fail(construct, `${prop}[${i}]`, `${type} v${type.version}`, `is listed twice (also ${prop}[${twin}])`);
    }
    types.push(type);
  });
  return types;
}

/**
 * The event types service `serviceName` publishes (`publishes`, checked as {@link eventTypesOf} does); a
 * contract produced by another service fails, naming `publishes[i].producer`.
 */
export function publishedEventsOf(serviceName: string, contracts: readonly EventContract[]): EventType[] {
  const events = eventTypesOf('Microservice', 'publishes', contracts);
  events.forEach((event, i) => {
    if (event.producer === serviceName) return;
    fail(
      'Microservice',
      `publishes[${i}].producer`,
      event.producer,
      `the ${event.name} contract is produced by "${event.producer}"; service "${serviceName}" may publish only contracts whose producer is "${serviceName}"`,
    );
  });
  return events;
}
