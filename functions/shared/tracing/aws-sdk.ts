import type {
  AbsoluteLocation,
  BuildHandlerOptions,
  BuildMiddleware,
  MetadataBearer,
  MiddlewareStack,
  ResponseMetadata,
} from '@smithy/types';
import { startSubsegment } from './handler';
import { Namespace } from './subsegment';
import type { Subsegment } from './subsegment';

/** The parts of an AWS SDK v3 client that instrumentation uses. */
export interface TraceableClient {
  // The stack's input and output types differ per client; the middleware handles any of them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly middlewareStack: MiddlewareStack<any, any>;
  readonly config: { readonly serviceId?: string; readonly region?: unknown };
}

/** Error names with which AWS services report throttling even when the status is not 429. */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'ThrottledException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);
const TRACE_HEADER = 'X-Amzn-Trace-Id';

/**
 * Step `build`: after the request is serialised, before the retry loop and signing (`finalizeRequest`).
 * So each SDK call is one subsegment spanning all its attempts, with `retries` saying how many there were,
 * and the trace header is set once on the request every attempt sends (SigV4 never signs that header).
 * Priority `high` puts it ahead of the SDK's recursion-detection middleware, which forwards Lambda's own
 * header only when none is set yet.
 */
const MIDDLEWARE_OPTIONS: BuildHandlerOptions & AbsoluteLocation = {
  step: 'build',
  priority: 'high',
  name: 'xrayTracingMiddleware',
  override: true,
};

interface ResponseLike {
  readonly statusCode?: number;
  readonly headers?: Record<string, string | undefined>;
}

interface ServiceErrorLike {
  readonly name?: string;
  readonly $metadata?: ResponseMetadata;
  readonly $response?: ResponseLike;
  readonly $retryable?: { readonly throttling?: boolean };
}

/**
 * Traces every call `client` makes during a traced invocation as a subsegment in namespace `aws`, named
 * after the service (`DynamoDB`), with operation, region, request id, table name, retries and status, and
 * passes the trace on in the request's X-Amzn-Trace-Id header so that the service's segment joins the trace.
 * Outside traced invocations the middleware only checks for a current subsegment.
 *
 * Wrap the low-level client; document clients built from it (`DynamoDBDocumentClient.from`) share its
 * middleware stack. Wrapping twice replaces the middleware instead of adding a second one.
 *
 * @returns `client`, for use in expressions
 */
export function traceAwsClient<T extends TraceableClient>(client: T): T {
  const service = client.config.serviceId ?? 'AWS';
  let region: string | undefined;
  const middleware: BuildMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const subsegment = startSubsegment(service, Namespace.AWS);
    if (!subsegment) return next(args);
    setTraceHeader(args.request, subsegment);
    const operation = context.commandName?.replace(/Command$/, '');
    const tableName = (args.input as { TableName?: unknown }).TableName;
    try {
      region ??= await resolveRegion(client.config.region);
      const result = await next(args);
      const response = result.response as ResponseLike | undefined;
      describeCall(subsegment, operation, region, tableName, result.output.$metadata, response);
      const status = response?.statusCode ?? result.output.$metadata?.httpStatusCode;
      if (status !== undefined) subsegment.setHttpResponse(status, contentLength(response));
      return result;
    } catch (error) {
      const failure = (error ?? {}) as ServiceErrorLike;
      describeCall(subsegment, operation, region, tableName, failure.$metadata, failure.$response);
      const status = failure.$metadata?.httpStatusCode ?? failure.$response?.statusCode;
      if (status !== undefined) subsegment.setHttpResponse(status, contentLength(failure.$response));
      if (failure.$retryable?.throttling || THROTTLING_ERRORS.has(failure.name ?? '')) {
        subsegment.markThrottled();
      }
      subsegment.addError(error, status !== undefined);
      throw error;
    } finally {
      subsegment.end();
    }
  };
  client.middlewareStack.add(middleware, MIDDLEWARE_OPTIONS);
  return client;
}

function setTraceHeader(request: unknown, subsegment: Subsegment): void {
  const headers = (request as { headers?: Record<string, string> } | undefined)?.headers;
  if (typeof headers !== 'object' || headers === null) return;
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'x-amzn-trace-id') delete headers[name];
  headers[TRACE_HEADER] = subsegment.traceHeader();
}

function describeCall(
  subsegment: Subsegment,
  operation: string | undefined,
  region: string | undefined,
  tableName: unknown,
  metadata: ResponseMetadata | undefined,
  response: ResponseLike | undefined,
): void {
  subsegment.setAws({
    operation,
    region,
    requestId:
      metadata?.requestId ??
      response?.headers?.['x-amzn-requestid'] ??
      response?.headers?.['x-amz-request-id'],
    tableName: typeof tableName === 'string' ? tableName : undefined,
    retries: metadata?.attempts === undefined ? undefined : Math.max(0, metadata.attempts - 1),
  });
}

async function resolveRegion(region: unknown): Promise<string | undefined> {
  const value: unknown = typeof region === 'function' ? await (region as () => unknown)() : region;
  return typeof value === 'string' ? value : undefined;
}

function contentLength(response: ResponseLike | undefined): number | undefined {
  const value = response?.headers?.['content-length'];
  return value === undefined ? undefined : Number(value);
}
