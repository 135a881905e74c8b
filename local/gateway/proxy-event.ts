/**
 * The event API Gateway's Lambda proxy integration (REST API, payload format 1.0) hands a function.
 */
import type { LocalRoute } from '../model';
import type { Authorization } from './authorization';
import { LOCAL_ACCOUNT } from './authorization';
import type { IncomingRequest } from './request';
import { headerValue } from './request';
import type { RouteMatch } from './routing';

/**
 * Builds the Lambda proxy event of a request: headers and query (single and multi-value, `null` when
 * empty), path parameters, body, and the request context with the authorizer's claims or the IAM caller.
 * @param route - the route matched
 * @param request - the request (its body read)
 * @param match - the path under the service and the path parameters
 * @param authorization - what the route's authorizer accepted
 */
export function proxyEvent(
  route: LocalRoute,
  request: IncomingRequest,
  match: RouteMatch,
  authorization: Authorization & { ok: true },
): unknown {
  const hasQuery = Object.keys(request.query).length > 0;
  const hasHeaders = Object.keys(request.headers).length > 0;
  return {
    resource: route.resourcePath,
    path: match.path,
    httpMethod: request.method,
    headers: hasHeaders ? plain(request.headers) : null,
    multiValueHeaders: hasHeaders ? plain(request.multiValueHeaders) : null,
    queryStringParameters: hasQuery ? plain(request.query) : null,
    multiValueQueryStringParameters: hasQuery ? plain(request.multiValueQuery) : null,
    pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
    stageVariables: null,
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: `local-${route.service}`,
      resourceId: route.resourcePath,
      resourcePath: route.resourcePath,
      httpMethod: request.method,
      requestId: request.requestId,
      extendedRequestId: request.requestId,
      requestTime: new Date().toUTCString(),
      requestTimeEpoch: Date.now(),
      // The path the client called (service prefix included), as API Gateway reports it behind a custom
      // domain's base path mapping: handlers derive Location headers from it.
      path: request.calledPath,
      stage: route.stage,
      protocol: 'HTTP/1.1',
      domainName: headerValue(request.headers, 'host') ?? '127.0.0.1',
      identity: {
        sourceIp: request.sourceIp,
        userAgent: headerValue(request.headers, 'user-agent') ?? null,
        accessKey: null,
        accountId: null,
        caller: null,
        user: null,
        userArn: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
        ...(authorization.identity ?? {}),
      },
      authorizer: authorization.claims ? { claims: authorization.claims } : null,
    },
  };
}

/** An ordinary object with the same own entries (`__proto__` stays an own key, as JSON.parse makes it). */
function plain<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record));
}
