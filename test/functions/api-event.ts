import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export interface EventOptions {
  readonly method?: string;
  readonly path?: string;
  readonly body?: unknown;
  /** Raw body text (e.g. malformed JSON); wins over `body`. */
  readonly rawBody?: string;
  readonly pathParameters?: Record<string, string>;
  readonly queryStringParameters?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** Cognito access-token claims as API Gateway's authorizer passes them; omit for an anonymous call. */
  readonly claims?: Record<string, string>;
}

/** An API Gateway REST proxy event as API Gateway sends it. */
export function apiEvent(options: EventOptions = {}): APIGatewayProxyEvent {
  return {
    httpMethod: options.method ?? 'GET',
    path: options.path ?? '/',
    resource: options.path ?? '/',
    body: options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body)),
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', ...(options.headers ?? {}) },
    multiValueHeaders: {},
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'req-123',
      stage: 'v1',
      path: `/v1${options.path ?? '/'}`,
      authorizer: options.claims ? { claims: options.claims } : undefined,
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function userClaims(
  sub: string,
  groups: string[] = [],
  scope = 'api/users.read api/users.write',
): Record<string, string> {
  return { sub, username: sub, scope, 'cognito:groups': groups.join(',') };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test-fn',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test-fn:live',
  memoryLimitInMB: '256',
  awsRequestId: 'aws-req-1',
  logGroupName: '/aws/lambda/test-fn',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 5000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
