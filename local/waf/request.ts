/**
 * The parts of a web request AWS WAF inspects, the request components a statement's `FieldToMatch` names, and
 * the text transformations applied to them before matching.
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-fields-list.html
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-transformation.html
 */
import { createHash } from 'node:crypto';

/** A web request as AWS WAF sees it in front of an API Gateway stage. */
export interface WafRequest {
  readonly method: string;
  /** URI path as sent (still percent-encoded), without the query. */
  readonly uriPath: string;
  /** Query string as sent, without the `?`. */
  readonly queryString: string;
  /** Headers in the order sent, names as sent. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** The client address (the TCP peer locally; the `IP` of rate-based and IP set statements). */
  readonly sourceIp: string;
}

/** Bytes of the body API Gateway forwards to WAF (AssociationConfig RequestBody API_GATEWAY, default KB_16). */
export const DEFAULT_BODY_INSPECTION_LIMIT = 16 * 1024;
/** WAF inspects the first 8 KB or 200 headers (cookies) at most. */
export const HEADERS_INSPECTION_BYTES = 8 * 1024;
export const HEADERS_INSPECTION_COUNT = 200;

/** What a request component gives a statement: the values to match, or a decision for oversize content. */
export type Component =
  | { readonly kind: 'values'; readonly values: readonly string[] }
  /** The component is absent (e.g. a SingleHeader the request lacks): the statement does not match. */
  | { readonly kind: 'missing' }
  | { readonly kind: 'decided'; readonly match: boolean };

/** Per-request parsing, done once and shared by every statement. */
export class InspectedRequest {
  private parsedQuery?: (readonly [string, string])[];
  private parsedCookies?: (readonly [string, string])[];
  private parsedJson?: { ok: true; value: unknown } | { ok: false };
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly request: WafRequest,
    /** Bytes of the body forwarded to WAF. */
    readonly bodyLimit: number = DEFAULT_BODY_INSPECTION_LIMIT,
  ) {}

  /** `compute()` once per request and key (e.g. a normalized component several rules inspect). */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    this.memos.set(key, value);
    return value;
  }

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    const values = this.request.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
    return values.length === 0 ? undefined : values.join(', ');
  }

  /** Raw `name=value` pairs of the query string (not decoded: WAF transformations decode). */
  get queryArgs(): readonly (readonly [string, string])[] {
    this.parsedQuery ??= this.request.queryString
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const eq = pair.indexOf('=');
        return eq < 0 ? ([pair, ''] as const) : ([pair.slice(0, eq), pair.slice(eq + 1)] as const);
      });
    return this.parsedQuery;
  }

  get cookies(): readonly (readonly [string, string])[] {
    this.parsedCookies ??= (this.header('cookie') ?? '')
      .split(';')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => {
        const eq = c.indexOf('=');
        return eq < 0 ? ([c, ''] as const) : ([c.slice(0, eq), c.slice(eq + 1)] as const);
      });
    return this.parsedCookies;
  }

  /** The forwarded part of the body as text. */
  get bodyText(): string {
    return this.request.body.subarray(0, this.bodyLimit).toString('utf8');
  }

  get bodyOversize(): boolean {
    return this.request.body.length > this.bodyLimit;
  }

  get json(): { ok: true; value: unknown } | { ok: false } {
    if (!this.parsedJson) {
      try {
        this.parsedJson = { ok: true, value: JSON.parse(this.bodyText) as unknown };
      } catch {
        this.parsedJson = { ok: false };
      }
    }
    return this.parsedJson;
  }
}

type Props = Readonly<Record<string, unknown>>;

/** FieldToMatch types this evaluator reads. */
export const SUPPORTED_FIELDS = [
  'SingleHeader',
  'Headers',
  'UriPath',
  'QueryString',
  'SingleQueryArgument',
  'AllQueryArguments',
  'Body',
  'JsonBody',
  'Method',
  'Cookies',
] as const;

/**
 * A compiled FieldToMatch: the component's values for a request. Throws at compile time for a field that
 * cannot be read locally (JA3/JA4 fingerprints, header order, URI fragment), so the rule is reported.
 */
export function compileField(field: Props | undefined): (request: InspectedRequest) => Component {
  const [kind, raw] = Object.entries(field ?? {})[0] ?? [];
  const config = (raw ?? {}) as Props;
  switch (kind) {
    case 'SingleHeader': {
      const name = String(config.Name ?? '');
      return (r) => {
        const value = r.header(name);
        return value === undefined ? { kind: 'missing' } : { kind: 'values', values: [value] };
      };
    }
    case 'Headers':
      // Header names match case-insensitively; cookie names as written.
      return namedPairsField(
        config,
        'IncludedHeaders',
        'ExcludedHeaders',
        (r) => r.request.headers,
        (n) => n.toLowerCase(),
      );
    case 'Cookies':
      return namedPairsField(
        config,
        'IncludedCookies',
        'ExcludedCookies',
        (r) => r.cookies,
        (n) => n,
      );
    case 'UriPath':
      return (r) => ({ kind: 'values', values: [r.request.uriPath] });
    case 'QueryString':
      return (r) => ({ kind: 'values', values: [r.request.queryString] });
    case 'Method':
      return (r) => ({ kind: 'values', values: [r.request.method] });
    case 'SingleQueryArgument': {
      const name = String(config.Name ?? '').toLowerCase();
      return (r) => {
        const values = r.queryArgs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
        return values.length === 0 ? { kind: 'missing' } : { kind: 'values', values };
      };
    }
    case 'AllQueryArguments':
      return (r) => ({ kind: 'values', values: r.queryArgs.map(([, v]) => v) });
    case 'Body':
      return (r) =>
        oversize(config.OversizeHandling, r.bodyOversize) ?? { kind: 'values', values: [r.bodyText] };
    case 'JsonBody':
      return compileJsonBody(config, oversize);
    default:
      throw new Error(`FieldToMatch ${kind ?? '(none)'} cannot be inspected locally`);
  }
}

function compileJsonBody(
  config: Props,
  oversize: (handling: unknown, isOver: boolean) => Component | undefined,
): (request: InspectedRequest) => Component {
  const pattern = (config.MatchPattern ?? {}) as Props;
  const paths = Array.isArray(pattern.IncludedPaths) ? pattern.IncludedPaths.map(String) : undefined;
  const scope = String(config.MatchScope ?? 'ALL');
  const fallback = config.InvalidFallbackBehavior;
  return (r) => {
    const decided = oversize(config.OversizeHandling, r.bodyOversize);
    if (decided) return decided;
    const json = r.json;
    if (!json.ok) {
      if (fallback === 'MATCH' || fallback === 'NO_MATCH')
        return { kind: 'decided', match: fallback === 'MATCH' };
      return { kind: 'values', values: [r.bodyText] };
    }
    const values: string[] = [];
    const visit = (value: unknown, pointer: string) => {
      const included = !paths || paths.some((p) => pointer === p || pointer.startsWith(`${p}/`));
      if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${pointer}/${i}`));
      else if (value !== null && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          const child = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
          if ((!paths || paths.some((p) => child === p || child.startsWith(`${p}/`))) && scope !== 'VALUE')
            values.push(key);
          visit(item, child);
        }
      } else if (included && scope !== 'KEY') values.push(value === null ? 'null' : String(value));
    };
    visit(json.value, '');
    return { kind: 'values', values };
  };
}

/** What an oversize component decides (OversizeHandling MATCH or NO_MATCH), or undefined to inspect what fits. */
function oversize(handling: unknown, isOver: boolean): Component | undefined {
  if (!isOver || handling === undefined || handling === 'CONTINUE') return undefined;
  return { kind: 'decided', match: handling === 'MATCH' };
}

/** Headers or Cookies: the named pairs a MatchPattern selects, cut as WAF forwards them, in MatchScope. */
function namedPairsField(
  config: Props,
  included: string,
  excluded: string,
  pairsOf: (request: InspectedRequest) => readonly (readonly [string, string])[],
  normalize: (name: string) => string,
): (request: InspectedRequest) => Component {
  const select = patternSelector(config.MatchPattern as Props | undefined, included, excluded);
  const scope = String(config.MatchScope ?? 'ALL');
  return (r) => {
    const all = pairsOf(r);
    const inspected = limitPairs(all);
    const decided = oversize(config.OversizeHandling, inspected.length < all.length);
    if (decided) return decided;
    return {
      kind: 'values',
      values: scoped(
        inspected.filter(([n]) => select(normalize(n))),
        scope,
      ),
    };
  };
}

function patternSelector(
  pattern: Props | undefined,
  included: string,
  excluded: string,
): (name: string) => boolean {
  if (!pattern || pattern.All !== undefined) return () => true;
  const lower = (key: string) =>
    Array.isArray(pattern[key]) ? (pattern[key] as unknown[]).map((n) => String(n).toLowerCase()) : undefined;
  const include = lower(included);
  const exclude = lower(excluded);
  if (include) return (name) => include.includes(name.toLowerCase());
  if (exclude) return (name) => !exclude.includes(name.toLowerCase());
  return () => true;
}

/** The first 8 KB / 200 pairs, as WAF forwards headers and cookies. */
function limitPairs(pairs: readonly (readonly [string, string])[]): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  let bytes = 0;
  for (const pair of pairs) {
    bytes += pair[0].length + pair[1].length + 4;
    if (out.length >= HEADERS_INSPECTION_COUNT || bytes > HEADERS_INSPECTION_BYTES) break;
    out.push(pair);
  }
  return out;
}

function scoped(pairs: readonly (readonly [string, string])[], scope: string): string[] {
  if (scope === 'KEY') return pairs.map(([k]) => k);
  if (scope === 'VALUE') return pairs.map(([, v]) => v);
  return pairs.flatMap(([k, v]) => [k, v]);
}

// --- Text transformations ---------------------------------------------------------------------------------

type Transform = (text: string) => string;

const HTML_ENTITIES: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  nbsp: '\u00a0',
  apos: "'",
};

function percentDecode(text: string, unicode: boolean): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  const source = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const byte = source[i];
    if (byte === 0x2b) {
      out.push(0x20);
      continue;
    }
    if (byte === 0x25) {
      const hex = source.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      const wide = source.subarray(i + 1, i + 6).toString('latin1');
      if (unicode && /^[uU][0-9a-fA-F]{4}$/.test(wide)) {
        out.push(...Buffer.from(String.fromCharCode(parseInt(wide.slice(1), 16)), 'utf8'));
        i += 5;
        continue;
      }
    }
    out.push(byte);
  }
  return Buffer.from(out).toString('utf8');
}

function normalizePath(text: string): string {
  const leading = text.startsWith('/');
  const parts: string[] = [];
  for (const part of text.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const trailing = text.length > 1 && /\/\.?$/.test(text);
  return `${leading ? '/' : ''}${parts.join('/')}${trailing && parts.length ? '/' : ''}`;
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  f: '\f',
  v: '\v',
  b: '\b',
  a: '\x07',
  '0': '\0',
};

/** The transformations WAF applies, by TextTransformation Type. */
export const TRANSFORMATIONS: Readonly<Record<string, Transform>> = {
  NONE: (t) => t,
  LOWERCASE: (t) => t.toLowerCase(),
  URL_DECODE: (t) => percentDecode(t, false),
  URL_DECODE_UNI: (t) => percentDecode(t, true),
  HTML_ENTITY_DECODE: (t) =>
    t.replace(/&(?:#x([0-9a-f]+)|#(\d+)|([a-z]+));?/gi, (all, hex?: string, dec?: string, name?: string) => {
      if (hex) return String.fromCodePoint(parseInt(hex, 16) % 0x110000);
      if (dec) return String.fromCodePoint(parseInt(dec, 10) % 0x110000);
      return HTML_ENTITIES[(name ?? '').toLowerCase()] ?? all;
    }),
  COMPRESS_WHITE_SPACE: (t) => t.replace(/[\t\n\v\f\r \u00a0]+/g, ' '),
  CMD_LINE: (t) =>
    t
      .replace(/[\\"'^]/g, '')
      .replace(/\s+(?=[/(])/g, '')
      .replace(/[,;]/g, ' ')
      .replace(/\s+/g, ' ')
      .toLowerCase(),
  BASE64_DECODE: (t) => Buffer.from(t, 'base64').toString('utf8'),
  BASE64_DECODE_EXT: (t) => Buffer.from(t.replace(/[^A-Za-z0-9+/=_-]/g, ''), 'base64').toString('utf8'),
  HEX_DECODE: (t) => (/^(?:[0-9a-f]{2})+$/i.test(t) ? Buffer.from(t, 'hex').toString('utf8') : t),
  SQL_HEX_DECODE: (t) =>
    t.replace(/0x((?:[0-9a-f]{2})+)/gi, (_all, hex: string) => Buffer.from(hex, 'hex').toString('latin1')),
  JS_DECODE: (t) =>
    t
      .replace(/\\u([0-9a-f]{4})/gi, (_a, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\x([0-9a-f]{2})/gi, (_a, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\([0-7]{1,3})/g, (_a, o: string) => String.fromCharCode(parseInt(o, 8) & 0xff))
      .replace(/\\(.)/g, (_a, c: string) => ESCAPES[c] ?? c),
  CSS_DECODE: (t) =>
    t
      .replace(/\\([0-9a-f]{1,6})\s?/gi, (_a, h: string) => String.fromCodePoint(parseInt(h, 16) % 0x110000))
      .replace(/\\(.)/g, '$1'),
  ESCAPE_SEQ_DECODE: (t) =>
    t
      .replace(/\\x([0-9a-f]{2})/gi, (_a, h: string) => String.fromCharCode(parseInt(h, 16)))
      .replace(/\\([0-7]{1,3})/g, (_a, o: string) => String.fromCharCode(parseInt(o, 8) & 0xff))
      .replace(/\\(.)/g, (_a, c: string) => ESCAPES[c] ?? c),
  REMOVE_NULLS: (t) => t.replace(/\0/g, ''),
  REPLACE_NULLS: (t) => t.replace(/\0/g, ' '),
  REPLACE_COMMENTS: (t) => t.replace(/\/\*[\s\S]*?(?:\*\/|$)/g, ' '),
  NORMALIZE_PATH: normalizePath,
  NORMALIZE_PATH_WIN: (t) => normalizePath(t.replace(/\\/g, '/')),
  TRIM: (t) => t.replace(/^[\s\0]+|[\s\0]+$/g, ''),
  MD5: (t) => createHash('md5').update(t, 'utf8').digest().toString('latin1'),
  UTF8_TO_UNICODE: (t) =>
    [...t]
      .map((c) => (c.charCodeAt(0) > 0x7f ? `%u${c.codePointAt(0)!.toString(16).padStart(4, '0')}` : c))
      .join(''),
};

/**
 * The statement's TextTransformations in priority order, as one function. Unknown types are reported through
 * `unknown` and skipped.
 */
export function compileTransformations(list: unknown, unknown: (type: string) => void): Transform {
  const steps = (Array.isArray(list) ? (list as Props[]) : [])
    .slice()
    .sort((a, b) => Number(a.Priority ?? 0) - Number(b.Priority ?? 0))
    .map((t) => String(t.Type ?? 'NONE'))
    .filter((type) => type !== 'NONE')
    .map((type) => {
      const transform = TRANSFORMATIONS[type];
      if (!transform) unknown(`text transformation ${type}`);
      return transform;
    })
    .filter((t): t is Transform => t !== undefined);
  if (steps.length === 0) return (t) => t;
  return (text) => steps.reduce((value, step) => step(value), text);
}
