/**
 * API Gateway's Lambda proxy integration: invokes the route's function with the proxy event (within API
 * Gateway's 29 s), checks that the function lets API Gateway invoke it, and maps the function's result (a
 * Lambda proxy response) to the HTTP answer, or to 502 when it is not one.
 */
import type { Invoke, LocalRoute } from '../model';
import { describeError } from './access-log';
import type { GatewayIam } from './iam';
import type { IncomingRequest } from './request';
import type { GatewayResponses, HttpReply } from './responses';

/** API Gateway's limit on a Lambda integration. */
export const INTEGRATION_TIMEOUT_MS = 29_000;

/** What {@link invokeIntegration} needs of the gateway. */
export interface IntegrationContext {
  /** Runs a route's function. */
  readonly invoke: Invoke;
  /** IAM enforcement (whether the function lets API Gateway invoke it), when on. */
  readonly iam?: Pick<GatewayIam, 'integrationDenied'>;
  /** Renders the gateway's own answers. */
  readonly responses: GatewayResponses;
  /** Receives integration errors. */
  readonly log: (line: string) => void;
}

/**
 * Invokes the route's function and maps its result.
 * @param context - how to invoke, render and log
 * @param route - the route matched
 * @param request - the request
 * @param event - its proxy event
 * @returns the function's response, or the 500 / 502 / 504 API Gateway answers when the integration fails
 */
export async function invokeIntegration(
  context: IntegrationContext,
  route: LocalRoute,
  request: IncomingRequest,
  event: unknown,
): Promise<HttpReply> {
  const { log, responses } = context;
  const internalError = (reason: string) =>
    responses.reject(route.service, request, route, {
      types: [],
      message: 'Internal server error',
      status: 502,
      reason,
    });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS);
  });
  try {
    const denied = context.iam?.integrationDenied(route);
    if (denied) {
      // API Gateway logs "Execution failed due to configuration error: Invalid permissions on Lambda function".
      log(`${route.functionKey}: invalid permissions on Lambda function: ${denied.decision.reason}`);
      return responses.reject(route.service, request, route, {
        types: [],
        message: 'Internal server error',
        status: 500,
        reason: 'invalid permissions on Lambda function',
      });
    }
    const result = await Promise.race([context.invoke(route.functionKey, event), timeout]);
    if (result === 'timeout') {
      log(`${route.functionKey} did not answer within ${INTEGRATION_TIMEOUT_MS / 1000} s`);
      return responses.reject(route.service, request, route, {
        types: ['INTEGRATION_TIMEOUT'],
        message: 'Endpoint request timed out',
        status: 504,
      });
    }
    const reply = proxyResult(result);
    if (typeof reply === 'string') {
      log(`${route.functionKey} returned a malformed Lambda proxy response: ${reply}`);
      return internalError('malformed Lambda proxy response');
    }
    return reply;
  } catch (error) {
    log(`${route.functionKey} failed: ${describeError(error)}`);
    return internalError('function error');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Turns a handler's result into the HTTP reply, or says why it is not a Lambda proxy response.
 * @param result - what the handler returned
 * @returns the reply, or the reason it is malformed
 */
export function proxyResult(result: unknown): HttpReply | string {
  if (typeof result !== 'object' || result === null) return `got ${JSON.stringify(result)}`;
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = result as Record<string, unknown>;
  const status = typeof statusCode === 'string' ? Number(statusCode) : statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    return `statusCode ${JSON.stringify(statusCode)}`;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return 'body is not a string';
  const out: Record<string, string | string[]> = {};
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') return 'headers is not an object';
    for (const [name, value] of Object.entries(headers)) out[name] = String(value);
  }
  if (multiValueHeaders !== undefined && multiValueHeaders !== null) {
    if (typeof multiValueHeaders !== 'object') return 'multiValueHeaders is not an object';
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (Array.isArray(values)) out[name] = values.map(String);
    }
  }
  if (!Object.keys(out).some((name) => name.toLowerCase() === 'content-type')) {
    out['Content-Type'] = 'application/json';
  }
  const text = typeof body === 'string' ? body : '';
  return {
    status,
    headers: out,
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : text,
  };
}
