import { randomBytes } from 'node:crypto';
import { emit } from './daemon';
import { formatTraceHeader } from './trace-header';
import type { TraceContext } from './trace-header';

/**
 * What a subsegment's downstream is; X-Ray draws `aws` and `remote` subsegments as their own nodes in the
 * trace map (inferred segments), and local work (no namespace) inside the function's node.
 */
export enum Namespace {
  /** A call to an AWS service through the SDK. */
  AWS = 'aws',
  /** An HTTP call to anything else, e.g. another service's API. */
  REMOTE = 'remote',
}

/** The values X-Ray indexes for filter expressions. */
export type AnnotationValue = string | number | boolean;

/** The `aws` object of an AWS SDK call's subsegment. */
export interface AwsCall {
  /** API operation, e.g. `PutItem`. */
  readonly operation?: string;
  readonly region?: string;
  /** The service's request id, which its support and logs know the call by. */
  readonly requestId?: string;
  /** DynamoDB table the operation addressed. */
  readonly tableName?: string;
  /** How many times the SDK retried the call. */
  readonly retries?: number;
}

interface StackFrame {
  readonly path: string;
  readonly line: number;
  readonly label: string;
}

interface ExceptionDocument {
  readonly id: string;
  readonly message: string;
  readonly type: string;
  readonly remote?: boolean;
  readonly stack?: StackFrame[];
}

/** Frames kept per exception: enough to find the failing line, small enough for a 64 KB datagram. */
const MAX_STACK_FRAMES = 10;
/** Characters X-Ray accepts in a (sub)segment name; anything else would get the document rejected. */
const NAME_REJECTED = /[^\p{L}\p{N}\s_.:/%&#=+\-@]/gu;
const MAX_NAME_LENGTH = 200;

/** A 64-bit id as X-Ray writes them: 16 lower-case hex digits. */
function newId(): string {
  return randomBytes(8).toString('hex');
}

function nowSeconds(): number {
  return Date.now() / 1000;
}

/**
 * One unit of timed work, sent to the daemon on its own (an "independent subsegment") when it ends, so that
 * nothing has to be held until the invocation finishes. Create the invocation's root one with the trace
 * header's Parent as parent, and the rest with {@link Subsegment.child}.
 */
export class Subsegment {
  /** This subsegment's id, the Parent that downstream calls it makes must carry. */
  public readonly id = newId();
  private readonly name: string;
  private readonly startTime = nowSeconds();
  private endTime?: number;
  private annotations?: Record<string, AnnotationValue>;
  private aws?: Record<string, string | number>;
  private http?: { request?: { method: string; url: string }; response?: Record<string, number> };
  private error = false;
  private fault = false;
  private throttle = false;
  private exceptions?: ExceptionDocument[];

  constructor(
    name: string,
    /** The trace this belongs to. */
    public readonly trace: TraceContext,
    private readonly parentId: string,
    private readonly namespace?: Namespace,
  ) {
    this.name = name.replace(NAME_REJECTED, '').slice(0, MAX_NAME_LENGTH) || 'unnamed';
  }

  /** Starts a subsegment nested in this one. */
  child(name: string, namespace?: Namespace): Subsegment {
    return new Subsegment(name, this.trace, this.id, namespace);
  }

  /** The X-Amzn-Trace-Id header for a downstream call made within this subsegment. */
  traceHeader(): string {
    return formatTraceHeader(this.trace, this.id);
  }

  /**
   * Adds an indexed key-value pair. X-Ray only filters on keys of letters, digits and underscores, so
   * other characters become underscores instead of making the annotation unusable.
   */
  annotate(key: string, value: AnnotationValue): void {
    (this.annotations ??= {})[key.replace(/\W/g, '_')] = value;
  }

  /** Describes the AWS SDK call this subsegment times. */
  setAws(call: AwsCall): void {
    const fields: Record<string, string | number | undefined> = {
      operation: call.operation,
      region: call.region,
      request_id: call.requestId,
      table_name: call.tableName,
      retries: call.retries,
    };
    for (const [key, value] of Object.entries(fields))
      if (value !== undefined) (this.aws ??= {})[key] = value;
  }

  /** Describes the HTTP request this subsegment times. */
  setHttpRequest(method: string, url: string): void {
    (this.http ??= {}).request = { method, url };
  }

  /**
   * Records the answer's status and flags the subsegment the way X-Ray reads statuses: 429 is a throttle
   * (and an error), other 4xx an error (the caller's fault), 5xx a fault (the server's).
   */
  setHttpResponse(status: number, contentLength?: number): void {
    const response: Record<string, number> = { status };
    if (contentLength !== undefined && Number.isFinite(contentLength))
      response.content_length = contentLength;
    (this.http ??= {}).response = response;
    if (status === 429) this.markThrottled();
    else if (status >= 400 && status < 500) this.error = true;
    else if (status >= 500) this.fault = true;
  }

  /** Marks a throttled call, also for services that signal it with another status (DynamoDB: 400). */
  markThrottled(): void {
    this.throttle = true;
    this.error = true;
  }

  /**
   * Records `error` as (one of) the causes. Unless a status already classified the failure, it counts as a
   * fault: an exception without an answer means our code or the network broke.
   *
   * @param remote - whether the error was returned by the downstream service
   */
  addError(error: unknown, remote = false): void {
    if (!this.error && !this.fault) this.fault = true;
    const { name, message, stack } = (error ?? {}) as { name?: unknown; message?: unknown; stack?: unknown };
    (this.exceptions ??= []).push({
      id: newId(),
      message: typeof message === 'string' ? message : String(error),
      type: typeof name === 'string' ? name : typeof error,
      ...(remote ? { remote: true } : {}),
      ...(typeof stack === 'string' ? { stack: stackFrames(stack) } : {}),
    });
  }

  /** Ends the subsegment and sends it to the daemon; later calls do nothing. */
  end(): void {
    if (this.endTime !== undefined) return;
    this.endTime = nowSeconds();
    emit(this);
  }

  /** The segment document, as the daemon expects an independent subsegment. */
  toJSON(): object {
    return {
      name: this.name,
      id: this.id,
      trace_id: this.trace.root,
      parent_id: this.parentId,
      type: 'subsegment',
      start_time: this.startTime,
      ...(this.endTime === undefined ? { in_progress: true } : { end_time: this.endTime }),
      namespace: this.namespace,
      annotations: this.annotations,
      aws: this.aws,
      http: this.http,
      error: this.error || undefined,
      fault: this.fault || undefined,
      throttle: this.throttle || undefined,
      cause: this.exceptions && { working_directory: process.cwd(), exceptions: this.exceptions },
    };
  }
}

/** Parses V8 frames (`    at label (path:line:column)` or `    at path:line:column`). */
function stackFrames(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split('\n')) {
    const match = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/.exec(line);
    if (!match) continue;
    frames.push({ path: match[2], line: Number(match[3]), label: match[1] ?? 'anonymous' });
    if (frames.length === MAX_STACK_FRAMES) break;
  }
  return frames;
}
