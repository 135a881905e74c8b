/**
 * AWS WAF rule statements compiled into predicates over one request: match statements (byte, size, regex,
 * IP set, label), logical statements (and, or, not) and rate-based statements (per-key counters over the
 * evaluation window). Statements that cannot be decided from a request alone (geography, ASN, the SQL
 * injection and XSS detection engines) are reported once at compile time and never match.
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statements-list.html
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Component, InspectedRequest } from './request';
import { compileField, compileTransformations } from './request';

type Props = Readonly<Record<string, unknown>>;

/** true: matches; false: does not; undefined: cannot be decided locally (treated as no match, never inverted). */
export type Tri = boolean | undefined;

/** What a statement sees while one request is evaluated. */
export interface EvaluationContext {
  readonly request: InspectedRequest;
  /** Labels added by the rules evaluated so far (fully qualified). */
  readonly labels: Set<string>;
  /** Milliseconds since the epoch (injectable for tests). */
  readonly now: number;
}

export type Predicate = (context: EvaluationContext) => Tri;

/** A WAF resource other statements refer to by ARN (IPSet, RegexPatternSet, RuleGroup). */
export interface ReferencedResource {
  readonly type: string;
  readonly name: string;
  readonly properties: Props;
}

/** What compiling needs from around the statement. */
export interface CompileEnvironment {
  /** IP sets, regex pattern sets and rule groups by ARN. */
  readonly byArn: ReadonlyMap<string, ReferencedResource>;
  /** Reports something not emulated (deduplicated by the caller; logged once at start-up). */
  readonly notEmulated: (what: string) => void;
}

/** Statement types the evaluator decides. */
export const EMULATED_STATEMENTS = [
  'ByteMatchStatement',
  'SizeConstraintStatement',
  'RegexMatchStatement',
  'RegexPatternSetReferenceStatement',
  'IPSetReferenceStatement',
  'LabelMatchStatement',
  'AndStatement',
  'OrStatement',
  'NotStatement',
  'RateBasedStatement',
  'ManagedRuleGroupStatement',
  'RuleGroupReferenceStatement',
] as const;

/** Statement types that cannot be decided from a local request, and why. */
export const NOT_EMULATED_STATEMENTS: Readonly<Record<string, string>> = {
  GeoMatchStatement: 'needs the client location (AWS geolocation data)',
  AsnMatchStatement: 'needs the autonomous system of the client address',
  SqliMatchStatement: "AWS's SQL injection detection engine is not public",
  XssMatchStatement: "AWS's cross-site scripting detection engine is not public",
};

/** `{ XxxStatement: {...} }` → [type, body]. */
export function statementType(statement: Props | undefined): [string, Props] {
  const [type, body] = Object.entries(statement ?? {})[0] ?? ['(none)', {}];
  return [type, (body ?? {}) as Props];
}

/** Compiles a statement (not a rule group statement: those are rules of their own, see acl.ts). */
export function compileStatement(statement: Props | undefined, env: CompileEnvironment): Predicate {
  const [type, body] = statementType(statement);
  try {
    return compileTyped(type, body, env);
  } catch (error) {
    env.notEmulated(`${type}: ${error instanceof Error ? error.message : String(error)}`);
    return () => undefined;
  }
}

function compileTyped(type: string, body: Props, env: CompileEnvironment): Predicate {
  switch (type) {
    case 'ByteMatchStatement':
      return byteMatch(body, env);
    case 'SizeConstraintStatement':
      return sizeConstraint(body, env);
    case 'RegexMatchStatement':
      return regexMatch([String(body.RegexString ?? '')], body, env);
    case 'RegexPatternSetReferenceStatement': {
      const set = env.byArn.get(String(body.Arn));
      if (!set) throw new Error(`regex pattern set ${String(body.Arn)} is not in the assembly`);
      const list = (set.properties.RegularExpressionList as unknown[] | undefined) ?? [];
      return regexMatch(
        list.map((r) => (typeof r === 'string' ? r : String((r as Props).RegexString))),
        body,
        env,
      );
    }
    case 'IPSetReferenceStatement':
      return ipSet(body, env);
    case 'LabelMatchStatement':
      return labelMatch(body);
    case 'AndStatement': {
      const parts = ((body.Statements as Props[] | undefined) ?? []).map((s) => compileStatement(s, env));
      return (context) => {
        let unknown = false;
        for (const part of parts) {
          const result = part(context);
          if (result === false) return false;
          if (result === undefined) unknown = true;
        }
        return unknown ? undefined : true;
      };
    }
    case 'OrStatement': {
      const parts = ((body.Statements as Props[] | undefined) ?? []).map((s) => compileStatement(s, env));
      return (context) => {
        let unknown = false;
        for (const part of parts) {
          const result = part(context);
          if (result === true) return true;
          if (result === undefined) unknown = true;
        }
        return unknown ? undefined : false;
      };
    }
    case 'NotStatement': {
      const inner = compileStatement(body.Statement as Props | undefined, env);
      return (context) => {
        const result = inner(context);
        return result === undefined ? undefined : !result;
      };
    }
    case 'RateBasedStatement':
      return rateBased(body, env);
    default: {
      const why = NOT_EMULATED_STATEMENTS[type];
      throw new Error(why ?? 'unknown statement type');
    }
  }
}

// --- Match statements ---------------------------------------------------------------------------------

/** Applies the statement's transformations to each value of the component and tests them. */
function componentTest(body: Props, env: CompileEnvironment, test: (value: string) => boolean): Predicate {
  const field = compileField(body.FieldToMatch as Props | undefined);
  const transform = compileTransformations(body.TextTransformations, (what) => env.notEmulated(what));
  return (context) => decide(field(context.request), (value) => test(transform(value)));
}

function decide(component: Component, test: (value: string) => boolean): boolean {
  if (component.kind === 'decided') return component.match;
  if (component.kind === 'missing') return false;
  return component.values.some(test);
}

function byteMatch(body: Props, env: CompileEnvironment): Predicate {
  const search =
    body.SearchString !== undefined
      ? String(body.SearchString)
      : Buffer.from(String(body.SearchStringBase64 ?? ''), 'base64').toString('utf8');
  const position = String(body.PositionalConstraint ?? 'CONTAINS');
  const test = positional(position, search);
  return componentTest(body, env, test);
}

/** ByteMatchStatement PositionalConstraint semantics (case-sensitive; transformations set the case). */
export function positional(position: string, search: string): (value: string) => boolean {
  switch (position) {
    case 'EXACTLY':
      return (v) => v === search;
    case 'STARTS_WITH':
      return (v) => v.startsWith(search);
    case 'ENDS_WITH':
      return (v) => v.endsWith(search);
    case 'CONTAINS':
      return (v) => v.includes(search);
    case 'CONTAINS_WORD': {
      // The search string must be delimited by characters other than alphanumerics and underscore.
      const word = new RegExp(`(?:^|[^A-Za-z0-9_])${escapeRegExp(search)}(?:$|[^A-Za-z0-9_])`);
      return (v) => word.test(v);
    }
    default:
      throw new Error(`PositionalConstraint ${position}`);
  }
}

function sizeConstraint(body: Props, env: CompileEnvironment): Predicate {
  const size = Number(body.Size ?? 0);
  const operator = String(body.ComparisonOperator ?? 'GT');
  const compare: Record<string, (n: number) => boolean> = {
    EQ: (n) => n === size,
    NE: (n) => n !== size,
    LE: (n) => n <= size,
    LT: (n) => n < size,
    GE: (n) => n >= size,
    GT: (n) => n > size,
  };
  const test = compare[operator];
  if (!test) throw new Error(`ComparisonOperator ${operator}`);
  return componentTest(body, env, (value) => test(Buffer.byteLength(value, 'utf8')));
}

function regexMatch(patterns: readonly string[], body: Props, env: CompileEnvironment): Predicate {
  const compiled = patterns.map(toRegExp);
  return componentTest(body, env, (value) => compiled.some((r) => r.test(value)));
}

/** A WAF (PCRE-style) regular expression as a JavaScript one; a leading `(?i)` / `(?s)` becomes a flag. */
export function toRegExp(pattern: string): RegExp {
  let flags = 'u';
  let source = pattern;
  for (;;) {
    const inline = /^\(\?([is]+)\)/.exec(source);
    if (!inline) break;
    for (const flag of inline[1]) if (!flags.includes(flag)) flags += flag;
    source = source.slice(inline[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch {
    return new RegExp(source, flags.replace('u', ''));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The client address a statement uses: the peer, or a forwarded-IP header (`Position` FIRST, LAST, ANY). */
function forwardedAddresses(config: Props | undefined, context: EvaluationContext): string[] | undefined {
  if (!config) return [context.request.request.sourceIp];
  const header = context.request.header(String(config.HeaderName ?? 'X-Forwarded-For'));
  if (header === undefined) return undefined;
  const addresses = header
    .split(',')
    .map((a) => a.trim())
    .filter((a) => isIPv4(a) || isIPv6(a));
  if (addresses.length === 0) return undefined;
  const position = String(config.Position ?? 'FIRST');
  if (position === 'LAST') return addresses.slice(-1);
  if (position === 'ANY') return addresses;
  return addresses.slice(0, 1);
}

function ipSet(body: Props, env: CompileEnvironment): Predicate {
  const set = env.byArn.get(String(body.Arn));
  if (!set) throw new Error(`IP set ${String(body.Arn)} is not in the assembly`);
  const list = new BlockList();
  for (const address of (set.properties.Addresses as unknown[] | undefined) ?? []) {
    const [ip, prefix] = String(address).split('/');
    const family = isIPv6(ip) ? 'ipv6' : 'ipv4';
    list.addSubnet(ip, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  const forwarded = body.IPSetForwardedIPConfig as Props | undefined;
  return (context) => {
    const addresses = forwardedAddresses(forwarded, context);
    if (!addresses) return String(forwarded?.FallbackBehavior) === 'MATCH';
    return addresses.some((a) => list.check(a, isIPv6(a) ? 'ipv6' : 'ipv4'));
  };
}

function labelMatch(body: Props): Predicate {
  const key = String(body.Key ?? '');
  if (String(body.Scope ?? 'LABEL') === 'NAMESPACE') {
    const namespace = key.endsWith(':') ? key : `${key}:`;
    return (context) => {
      for (const label of context.labels) {
        const own = label.slice(0, label.lastIndexOf(':') + 1);
        if (own === namespace || own.endsWith(`:${namespace}`) || label.startsWith(namespace)) return true;
      }
      return false;
    };
  }
  return (context) => {
    for (const label of context.labels) if (label === key || label.endsWith(`:${key}`)) return true;
    return false;
  };
}

// --- Rate-based statements ----------------------------------------------------------------------------

/** Requests per key in one-second buckets over the evaluation window. */
class SlidingCounter {
  private readonly keys = new Map<string, { buckets: Uint32Array; second: number; total: number }>();

  constructor(private readonly windowSeconds: number) {}

  /** Counts one request for `key` at `nowMs`; returns the requests of the key within the window. */
  hit(key: string, nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    let entry = this.keys.get(key);
    if (!entry) {
      if (this.keys.size >= 10_000) this.prune(second);
      entry = { buckets: new Uint32Array(this.windowSeconds), second, total: 0 };
      this.keys.set(key, entry);
    }
    this.advance(entry, second);
    entry.buckets[second % this.windowSeconds] += 1;
    entry.total += 1;
    return entry.total;
  }

  private advance(entry: { buckets: Uint32Array; second: number; total: number }, second: number): void {
    if (second <= entry.second) return;
    const steps = Math.min(second - entry.second, this.windowSeconds);
    for (let i = 1; i <= steps; i++) {
      const slot = (entry.second + i) % this.windowSeconds;
      entry.total -= entry.buckets[slot];
      entry.buckets[slot] = 0;
    }
    entry.second = second;
  }

  private prune(second: number): void {
    for (const [key, entry] of this.keys) {
      if (second - entry.second >= this.windowSeconds) this.keys.delete(key);
    }
  }
}

/**
 * A rate-based statement: counts, per aggregation key, the requests that match the scope-down statement (all
 * requests without one) over EvaluationWindowSec (default 300 s), and matches a request whose key is over
 * Limit. AWS checks the rates every few seconds, so it starts and stops blocking a little later than this.
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html
 */
function rateBased(body: Props, env: CompileEnvironment): Predicate {
  const limit = Number(body.Limit ?? 0);
  if (!Number.isFinite(limit) || limit <= 0) throw new Error(`Limit ${String(body.Limit)}`);
  const window = Number(body.EvaluationWindowSec ?? 300);
  const counter = new SlidingCounter(window > 0 ? window : 300);
  const scopeDown =
    body.ScopeDownStatement !== undefined
      ? compileStatement(body.ScopeDownStatement as Props, env)
      : undefined;
  const aggregate = String(body.AggregateKeyType ?? 'IP');
  const key = aggregationKey(aggregate, body, env);
  return (context) => {
    if (scopeDown) {
      const inScope = scopeDown(context);
      if (inScope !== true) return inScope === undefined ? undefined : false;
    }
    const k = key(context);
    if (k === undefined) return false;
    if (typeof k === 'boolean') return k;
    return counter.hit(k, context.now) > limit;
  };
}

/** The aggregation key of a request; a boolean when a forwarded-IP fallback decides; undefined: not counted. */
function aggregationKey(
  aggregate: string,
  body: Props,
  env: CompileEnvironment,
): (context: EvaluationContext) => string | boolean | undefined {
  switch (aggregate) {
    case 'IP':
      return (context) => context.request.request.sourceIp;
    case 'CONSTANT':
      return () => '*';
    case 'FORWARDED_IP': {
      const config = (body.ForwardedIPConfig ?? {}) as Props;
      return (context) =>
        forwardedAddresses(config, context)?.[0] ?? String(config.FallbackBehavior) === 'MATCH';
    }
    case 'CUSTOM_KEYS': {
      const parts = ((body.CustomKeys as Props[] | undefined) ?? []).map((k) => customKey(k, body, env));
      return (context) => {
        const values: string[] = [];
        for (const part of parts) {
          const value = part(context);
          if (value === undefined) return undefined; // AWS does not count a request that lacks a key
          values.push(value);
        }
        return JSON.stringify(values);
      };
    }
    default:
      throw new Error(`AggregateKeyType ${aggregate}`);
  }
}

function customKey(
  key: Props,
  body: Props,
  env: CompileEnvironment,
): (context: EvaluationContext) => string | undefined {
  const [type, config] = statementType(key);
  const transform = compileTransformations(config.TextTransformations, (what) => env.notEmulated(what));
  const named =
    (values: (context: EvaluationContext) => string | undefined) => (context: EvaluationContext) => {
      const value = values(context);
      return value === undefined ? undefined : transform(value);
    };
  switch (type) {
    case 'IP':
      return (context) => context.request.request.sourceIp;
    case 'ForwardedIP': {
      const config2 = (body.ForwardedIPConfig ?? {}) as Props;
      return (context) => forwardedAddresses(config2, context)?.[0];
    }
    case 'HTTPMethod':
      return (context) => context.request.request.method;
    case 'Header':
      return named((context) => context.request.header(String(config.Name)));
    case 'Cookie':
      return named((context) => context.request.cookies.find(([n]) => n === String(config.Name))?.[1]);
    case 'QueryArgument':
      return named(
        (context) =>
          context.request.queryArgs.find(([n]) => n.toLowerCase() === String(config.Name).toLowerCase())?.[1],
      );
    case 'QueryString':
      return named((context) => context.request.request.queryString || undefined);
    case 'UriPath':
      return named((context) => context.request.request.uriPath);
    case 'LabelNamespace': {
      const namespace = String(config.Namespace ?? '');
      return (context) => {
        const labels = [...context.labels].filter((l) => l.startsWith(namespace)).sort();
        return labels.length ? labels.join(',') : undefined;
      };
    }
    default:
      throw new Error(`custom aggregation key ${type}`);
  }
}
