import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { safeParse } from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import './schema';
import { AppError, ErrorKind, MalformedJsonError, UnauthorizedError, ValidationError } from './errors';
import { logger, metrics, tracer } from './powertools';

export const CORRELATION_HEADER = 'x-correlation-id';

/** The caller, from the Cognito authorizer's access-token claims. */
export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
}

/** What a route handler receives: parsed body and parameters, the caller and the correlation id. */
export interface HttpRequest<TBody> {
  readonly body: TBody;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly queryParameters: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly principal?: Principal;
  readonly correlationId: string;
  readonly requestId: string;
  /**
   * The path prefix the client called the API under (`/v1` for a stage URL, `/orders` behind a custom
   * domain's base path); prepend it to paths returned in Location headers.
   */
  readonly basePath: string;
}

/** What a route handler returns. */
export interface HttpResult {
  readonly statusCode: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface HttpRouteOptions<TBody> {
  /** zod schema of the JSON body; omit for routes without a body. */
  readonly body?: $ZodType<TBody>;
  /** zod schema of the path parameters (bad ones get 400 VALIDATION_FAILED, before any work). */
  readonly pathParameters?: $ZodType<Record<string, string>>;
  /** Whether the route needs an authenticated caller (defaults to true). */
  readonly authenticated?: boolean;
}

export type RouteFunction<TBody> = (request: HttpRequest<TBody>) => Promise<HttpResult>;

/**
 * Wraps a route function in the shared middleware stack: Powertools Tracer (the invocation's `## <handler>`
 * subsegment, annotated with `correlationId`), logger (with the correlation id) and metrics, JSON body
 * parsing and zod validation, and one error-to-HTTP mapping. Responses are not recorded in the trace (they
 * may carry personal data); an unhandled error is, as the subsegment's fault.
 */
export function httpRoute<TBody = undefined>(options: HttpRouteOptions<TBody>, route: RouteFunction<TBody>) {
  const core = async (event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> => {
    const headers = lowerCaseHeaders(event.headers);
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const correlationId = safeCorrelationId(headers[CORRELATION_HEADER]) ?? requestId;
    logger.appendKeys({ correlationId });
    tracer.putAnnotation('correlationId', correlationId);
    try {
      const principal = principalOf(event);
      if ((options.authenticated ?? true) && !principal) throw new UnauthorizedError();
      const pathParameters = wellFormedValues(definedValues(event.pathParameters), 'path parameters');
      const queryParameters = wellFormedValues(
        definedValues(event.queryStringParameters),
        'query parameters',
      );
      const request: HttpRequest<TBody> = {
        body: options.body ? parseBody(event.body, options.body) : (undefined as TBody),
        pathParameters: parsePathParameters(pathParameters, options.pathParameters),
        queryParameters,
        headers,
        principal,
        correlationId,
        requestId,
        basePath: basePathOf(event),
      };
      const result = await route(request);
      countOutcome(result.statusCode);
      logger.info('Request completed', {
        method: event.httpMethod,
        path: event.path,
        statusCode: result.statusCode,
      });
      return respond(result.statusCode, result.body, correlationId, result.headers);
    } catch (error) {
      const response = errorResponse(error, correlationId, requestId);
      countOutcome(response.statusCode);
      return response;
    } finally {
      logger.removeKeys(['correlationId']);
    }
  };
  // The tracer first, so that its subsegment also times the other middlewares.
  return middy(core)
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

function parseBody<TBody>(raw: string | null, schema: $ZodType<TBody>): TBody {
  let json: unknown;
  try {
    json = raw === null || raw === '' ? undefined : JSON.parse(raw);
  } catch {
    throw new MalformedJsonError();
  }
  const malformed = malformedStringPath(json);
  if (malformed !== undefined) {
    throw new ValidationError('The request body is invalid', [{ path: malformed, message: NOT_WELL_FORMED }]);
  }
  const parsed = safeParse(schema, json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ValidationError('The request body is invalid', issues);
  }
  return parsed.data;
}

const NOT_WELL_FORMED = 'Must be well-formed Unicode (no lone UTF-16 surrogates)';
/** A surrogate code unit that is not half of a pair (with the `u` flag a pair reads as one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

function printable(text: string): string {
  return text.replace(/\p{Cs}/gu, '\ufffd');
}

/**
 * Where a JSON value holds a string (or a key) that is not well-formed Unicode — JSON text such as
 * `"\\ud800"` decodes to a lone surrogate, which DynamoDB and other services refuse — or undefined.
 * Iterative, so no nesting depth JSON.parse accepts can overflow the stack.
 */
function malformedStringPath(json: unknown): string | undefined {
  const pending: Array<{ value: unknown; path: string }> = [{ value: json, path: '' }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (!isWellFormed(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        pending.push({ value: value[i], path: join(path, String(i)) });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (!isWellFormed(key)) return join(path, printable(key));
        pending.push({ value: child, path: join(path, key) });
      }
    }
  }
  return undefined;
}

/** Path parameters or query parameters, refused (400) when a name or value is not well-formed Unicode. */
function wellFormedValues(values: Record<string, string>, what: string): Record<string, string> {
  const bad = Object.entries(values).find(([name, value]) => !isWellFormed(name) || !isWellFormed(value));
  if (bad) {
    throw new ValidationError(`The ${what} are invalid`, [
      { path: printable(bad[0]), message: NOT_WELL_FORMED },
    ]);
  }
  return values;
}

function basePathOf(event: APIGatewayProxyEvent): string {
  const called = event.requestContext?.path;
  if (!called || !event.path || !called.endsWith(event.path)) return '';
  return called.slice(0, called.length - event.path.length);
}

function parsePathParameters(
  values: Record<string, string>,
  schema: $ZodType<Record<string, string>> | undefined,
): Record<string, string> {
  if (!schema) return values;
  const parsed = safeParse(schema, values);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ValidationError('The path parameters are invalid', issues);
  }
  return parsed.data;
}

function principalOf(event: APIGatewayProxyEvent): Principal | undefined {
  const claims = event.requestContext?.authorizer?.claims as Record<string, unknown> | undefined;
  if (!claims || typeof claims.sub !== 'string') return undefined;
  return {
    userId: claims.sub,
    username: typeof claims.username === 'string' ? claims.username : claims.sub,
    groups: claimList(claims['cognito:groups']),
    scopes: claimList(claims.scope),
  };
}

/** API Gateway passes list claims as a space-separated string, a `[a b]` string, or an array. */
function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

/**
 * A client's correlation id, when it is 1-128 letters, digits and `._:-`. It travels into logs, trace annotations
 * and event envelopes (the outbox pipe's input template quotes it as a JSON string, and AWS does not document
 * whether such a value is escaped), so anything else is replaced by the request id.
 */
function safeCorrelationId(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : undefined;
}

/** The HTTP status each {@link ErrorKind} is answered with. */
export const HTTP_STATUS_BY_ERROR_KIND: Readonly<Record<ErrorKind, number>> = Object.freeze({
  [ErrorKind.INVALID_INPUT]: 400,
  [ErrorKind.UNAUTHENTICATED]: 401,
  [ErrorKind.FORBIDDEN]: 403,
  [ErrorKind.NOT_FOUND]: 404,
  [ErrorKind.CONFLICT]: 409,
  [ErrorKind.UNPROCESSABLE]: 422,
  [ErrorKind.UNAVAILABLE]: 503,
});

/**
 * The HTTP status an error is answered with: the status of an {@link AppError}'s kind, 500 for anything
 * else (including an AppError whose kind is not an {@link ErrorKind}).
 */
export function httpStatusOf(error: unknown): number {
  if (!(error instanceof AppError)) return 500;
  return Object.hasOwn(HTTP_STATUS_BY_ERROR_KIND, error.kind) ? HTTP_STATUS_BY_ERROR_KIND[error.kind] : 500;
}

/** The extra HTTP response headers of an error: `retry-after` when it carries `retryAfterSeconds`. */
export function httpHeadersOf(error: unknown): Record<string, string> {
  if (!(error instanceof AppError) || error.retryAfterSeconds === undefined) return {};
  return { 'retry-after': String(error.retryAfterSeconds) };
}

function errorResponse(error: unknown, correlationId: string, requestId: string): APIGatewayProxyResult {
  const statusCode = httpStatusOf(error);
  if (error instanceof AppError && statusCode !== 500) {
    logger.info('Request rejected', { code: error.code, statusCode });
    const body: Record<string, unknown> = { code: error.code, message: error.message, requestId };
    if (error.details !== undefined) body.details = error.details;
    return respond(statusCode, { error: body }, correlationId, httpHeadersOf(error));
  }
  logger.error('Unhandled error', error as Error);
  tracer.addErrorAsMetadata(error as Error);
  return respond(
    500,
    {
      error: {
        code: 'INTERNAL_ERROR',
        message: 'Something went wrong; quote the request id when reporting it',
        requestId,
      },
    },
    correlationId,
  );
}

/**
 * One outcome metric per request. Handlers answer unexpected errors with a 500 instead of throwing, so
 * Lambda's own Errors metric stays flat: `ServerError` is what the service's error alarms watch.
 */
function countOutcome(statusCode: number): void {
  const outcome = statusCode >= 500 ? 'ServerError' : statusCode >= 400 ? 'ClientError' : 'Success';
  metrics.addMetric(outcome, 'Count', 1);
}

function respond(
  statusCode: number,
  body: unknown,
  correlationId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', [CORRELATION_HEADER]: correlationId, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

function lowerCaseHeaders(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
): Record<string, string> {
  // fromEntries defines own properties, so a name like `__proto__` is a header like any other.
  return Object.fromEntries(
    Object.entries(headers ?? {})
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([k, v]) => [k.toLowerCase(), v]),
  );
}

function definedValues(
  values: Record<string, string | undefined> | null | undefined,
): Record<string, string> {
  // fromEntries defines own properties, so a name like `__proto__` is a parameter like any other.
  return Object.fromEntries(
    Object.entries(values ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
