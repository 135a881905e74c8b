// Internal to the constructs (not exported from lib/index.ts): how escape-hatch props (`tableProps`,
// `restApiProps`, …) are merged over a construct's defaults, in the manner of AWS Solutions Constructs'
// consolidateProps: defaults, then the typed props, then the override, then the construct's must-haves.
import { Duration, Token } from 'aws-cdk-lib';
import { fail, show } from './validation';

/** A setting the construct insists on: an override may only repeat it (or choose another accepted value). */
export interface MustHave<V> {
  /** The value the construct sets. */
  readonly value: V;
  /** Why it cannot be switched off, ending the error message. */
  readonly why: string;
  /**
   * Other values an override may choose instead.
   * @default - only `value` itself
   */
  readonly accepts?: (candidate: V) => boolean;
}

/** The must-haves of a props type, by key. */
export type MustHaves<T> = { readonly [K in keyof T]?: MustHave<T[K]> };

/**
 * `base` with `overrides` merged over it and `mustHaves` applied last. An override that sets a must-have key
 * to a value the construct does not accept fails, naming `{prop}.{key}` and the value.
 */
export function mergeOverrides<T extends object>(
  construct: string,
  prop: string,
  base: T,
  overrides: Partial<T> | undefined,
  mustHaves: MustHaves<T>,
): T {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>), ...(overrides ?? {}) };
  for (const [key, rule] of Object.entries(mustHaves) as Array<[string, MustHave<unknown> | undefined]>) {
    if (!rule) continue;
    const candidate = (overrides as Record<string, unknown> | undefined)?.[key];
    if (candidate === undefined) {
      merged[key] = rule.value;
    } else if (!(same(candidate, rule.value) || rule.accepts?.(candidate))) {
      fail(construct, `${prop}.${key}`, candidate, rule.why);
    }
  }
  return merged as unknown as T;
}

/**
 * Fails when a typed prop and the same setting in an override are both given with different values, naming
 * both: the construct cannot tell which one the caller meant. Durations are compared by length (`60 seconds`
 * and `1 minute` agree) and shown as such.
 */
export function requireNoConflict(
  construct: string,
  typedProp: string,
  typedValue: unknown,
  overrideProp: string,
  overrideValue: unknown,
): void {
  if (typedValue === undefined || overrideValue === undefined || same(typedValue, overrideValue)) return;
  fail(
    construct,
    overrideProp,
    readable(overrideValue),
    `conflicts with ${typedProp} (${show(readable(typedValue))}); set one of them`,
  );
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Duration && b instanceof Duration) {
    if (a.isUnresolved() || b.isUnresolved()) return a.toString() === b.toString();
    return a.toMilliseconds({ integral: false }) === b.toMilliseconds({ integral: false });
  }
  if (Token.isUnresolved(a) || Token.isUnresolved(b)) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** What an error message shows of a value: a duration as `1 minute`, anything else as it is. */
function readable(value: unknown): unknown {
  return value instanceof Duration ? value.toHumanString() : value;
}
