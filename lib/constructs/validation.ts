import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { EventContract } from '../../functions/shared/events/contract';

/** An event name (EventBridge `detail-type`): PascalCase, 2-64 characters. */
const EVENT_NAME = /^[A-Z][A-Za-z0-9]{1,63}$/;
/** A service name, as {@link ServiceRegistry} accepts it. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{1,30}$/;

/**
 * Prop validation shared by the constructs: every failure names the construct, the prop and the bad value,
 * so a mistake fails `cdk synth` with a message that says exactly what to fix.
 */
export function fail(construct: string, prop: string, value: unknown, expectation: string): never {
  throw new Error(invalid(construct, prop, value, expectation));
}

/** The message {@link fail} throws, for checks that report several problems at once (node validations). */
export function invalid(construct: string, prop: string, value: unknown, expectation: string): string {
  return `${construct}: invalid ${prop} ${show(value)}: ${expectation}`;
}

/** Renders a value for an error message; CDK tokens are shown as such rather than as their placeholder. */
export function show(value: unknown): string {
  if (Token.isUnresolved(value)) return '(a token, resolved at deploy time)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Fails unless `value` matches `pattern`; the message names the construct, the prop and the value. A value that
 * is (or contains) a CDK token is not known at synth and passes: CloudFormation and the service check it.
 */
export function requireMatch(
  construct: string,
  prop: string,
  value: string,
  pattern: RegExp,
  expectation: string,
): void {
  if (Token.isUnresolved(value)) return;
  if (!pattern.test(value)) fail(construct, prop, value, expectation);
}

/** Fails unless `value` is absent, a CDK token (checked at deploy time), or a whole number from `min` to `max`. */
export function requireIntegerInRange(
  construct: string,
  prop: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(construct, prop, value, `must be a whole number from ${min} to ${max}`);
  }
}

/**
 * How cdk-nag names a resource in an IAM finding id (`AwsSolutions-IAM5[Resource::<this>]`): the resolved
 * value with references written as `<LogicalId>` and attributes as `<LogicalId.Attr>`. Lets a construct
 * acknowledge exactly the wildcard resource it grants, whatever its logical ids and region end up being.
 */
export function nagResourceName(scope: IConstruct, value: string): string {
  const render = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if ('Ref' in obj) return `<${String(obj.Ref)}>`;
      if ('Fn::GetAtt' in obj) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
      if ('Fn::Join' in obj) {
        const [separator, parts] = obj['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(separator);
      }
    }
    return JSON.stringify(node);
  };
  return render(Stack.of(scope).resolve(value));
}

/**
 * Checks what the constructs read of an event contract at synth (its `type`, `version` and `producer`; the
 * schema is the handlers' business) and fails with the prop that holds it, e.g. `publishes[0].type`. A
 * string where a contract belongs (the event's name, as props took before contracts) gets its own message.
 */
export function requireContract(construct: string, prop: string, contract: EventContract): void {
  if (typeof contract !== 'object' || contract === null) {
    fail(construct, prop, contract, 'pass the event contract object (defineContract), not its name');
  }
  const { type, producer, version } = contract as Partial<EventContract>;
  if (typeof type !== 'string' || !EVENT_NAME.test(type)) {
    fail(construct, `${prop}.type`, type, 'use a PascalCase event name such as OrderPlaced');
  }
  if (typeof producer !== 'string' || !SERVICE_NAME.test(producer)) {
    fail(
      construct,
      `${prop}.producer`,
      producer,
      'use the producing service name (a lowercase letter, then 1-30 lowercase letters, digits or hyphens)',
    );
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail(construct, `${prop}.version`, version, 'must be a whole number of at least 1');
  }
}
