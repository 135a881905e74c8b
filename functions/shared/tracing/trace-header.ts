/**
 * The part of an X-Ray trace header that tracing needs: which trace a sampled invocation belongs to, the
 * segment its subsegments hang under, and the fields that must travel on to downstream calls.
 */
export interface TraceContext {
  /** The trace id, `1-<8 hex epoch seconds>-<24 hex>`. */
  readonly root: string;
  /** Id of the segment the caller (for a Lambda invocation: Lambda itself) opened; our parent. */
  readonly parent: string;
  /**
   * Fields other than Root, Parent and Sampled, as `Key=value;Key=value` (empty when there are none).
   * Lambda's recursive loop detection counts hops in `Lineage`, so dropping it from downstream headers
   * would switch that protection off.
   */
  readonly passOn: string;
}

const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const SEGMENT_ID = /^[0-9a-f]{16}$/;

/**
 * Reads a trace header such as `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
 *
 * @returns the context when the header is well formed and says `Sampled=1`; `undefined` otherwise, since an
 *   unsampled (or malformed) trace must cost nothing.
 */
export function parseTraceHeader(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  let root: string | undefined;
  let parent: string | undefined;
  let sampled = false;
  const passOn: string[] = [];
  for (const field of header.split(';')) {
    const separator = field.indexOf('=');
    if (separator <= 0) continue;
    const key = field.slice(0, separator).trim();
    const value = field.slice(separator + 1).trim();
    if (key === 'Root') root = value;
    else if (key === 'Parent') parent = value;
    else if (key === 'Sampled') sampled = value === '1';
    else if (key !== 'Self') passOn.push(`${key}=${value}`);
  }
  if (!sampled || root === undefined || parent === undefined) return undefined;
  if (!ROOT.test(root) || !SEGMENT_ID.test(parent)) return undefined;
  return { root, parent, passOn: passOn.join(';') };
}

/** The header a downstream call carries so that its segment becomes a child of subsegment `parentId`. */
export function formatTraceHeader(trace: TraceContext, parentId: string): string {
  const header = `Root=${trace.root};Parent=${parentId};Sampled=1`;
  return trace.passOn === '' ? header : `${header};${trace.passOn}`;
}

interface LambdaRuntimeGlobal {
  readonly awslambda?: { readonly InvokeStore?: { getXRayTraceId?: () => string | undefined } };
}

/**
 * The current invocation's trace header. Lambda sets `_X_AMZN_TRACE_ID` afresh for every invocation, so it
 * is read per invocation, never cached; runtimes that serve concurrent invocations in one process (Lambda
 * Managed Instances) keep it in the runtime's invoke store instead, which therefore wins when present.
 */
export function invocationTraceHeader(): string | undefined {
  return (
    (globalThis as LambdaRuntimeGlobal).awslambda?.InvokeStore?.getXRayTraceId?.() ??
    process.env._X_AMZN_TRACE_ID
  );
}
