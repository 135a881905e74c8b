import * as apigateway from 'aws-cdk-lib/aws-apigateway';

/**
 * The error responses API Gateway itself sends (missing token, throttled, bad body, …), each with a stable code
 * in the same `{ "error": { "code", "message", "requestId" } }` shape as the handlers' errors, so a client
 * parses one error format whichever layer refused the request. Construct id, response type, status, code.
 */
export const GATEWAY_ERROR_RESPONSES: ReadonlyArray<
  readonly [id: string, type: apigateway.ResponseType, statusCode: string, code: string]
> = [
  ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED, '401', 'UNAUTHORIZED'],
  ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, '403', 'FORBIDDEN'],
  ['MissingToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'ROUTE_NOT_FOUND'],
  ['BadBody', apigateway.ResponseType.BAD_REQUEST_BODY, '400', 'VALIDATION_FAILED'],
  ['BadParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'VALIDATION_FAILED'],
  ['Throttled', apigateway.ResponseType.THROTTLED, '429', 'THROTTLED'],
  ['WafBlocked', apigateway.ResponseType.WAF_FILTERED, '403', 'REQUEST_BLOCKED'],
  ['TooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, '413', 'PAYLOAD_TOO_LARGE'],
  ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN, '401', 'TOKEN_EXPIRED'],
  ['UnsupportedMediaType', apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'UNSUPPORTED_MEDIA_TYPE'],
  ['QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'QUOTA_EXCEEDED'],
  ['InvalidSignature', apigateway.ResponseType.INVALID_SIGNATURE, '403', 'INVALID_SIGNATURE'],
  ['Default4xx', apigateway.ResponseType.DEFAULT_4XX, '400', 'BAD_REQUEST'],
  ['Default5xx', apigateway.ResponseType.DEFAULT_5XX, '502', 'UPSTREAM_ERROR'],
];

/**
 * Adds {@link GATEWAY_ERROR_RESPONSES} to `api`. The two defaults keep the status API Gateway chose; the others
 * use the listed one.
 */
export function addGatewayErrorResponses(api: apigateway.RestApi): void {
  for (const [id, type, statusCode, code] of GATEWAY_ERROR_RESPONSES) {
    const isDefault =
      type === apigateway.ResponseType.DEFAULT_4XX || type === apigateway.ResponseType.DEFAULT_5XX;
    api.addGatewayResponse(id, {
      type,
      statusCode: isDefault ? undefined : statusCode,
      responseHeaders: { 'Content-Type': "'application/json'" },
      templates: {
        'application/json': `{"error":{"code":"${code}","message":$context.error.messageString,"requestId":"$context.requestId"}}`,
      },
    });
  }
}
