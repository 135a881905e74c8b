import type { LocalGatewayResponse } from '../../local/model';

/** The gateway responses Microservice's addErrorResponses defines (WAF_FILTERED among them), as the provisioner reads them. */
export function errorResponses(service: string): LocalGatewayResponse[] {
  const table: Array<[string, number | undefined, string]> = [
    ['UNAUTHORIZED', 401, 'UNAUTHORIZED'],
    ['ACCESS_DENIED', 403, 'FORBIDDEN'],
    ['MISSING_AUTHENTICATION_TOKEN', 404, 'ROUTE_NOT_FOUND'],
    ['BAD_REQUEST_BODY', 400, 'VALIDATION_FAILED'],
    ['BAD_REQUEST_PARAMETERS', 400, 'VALIDATION_FAILED'],
    ['EXPIRED_TOKEN', 401, 'TOKEN_EXPIRED'],
    ['REQUEST_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['INVALID_SIGNATURE', 403, 'INVALID_SIGNATURE'],
    ['WAF_FILTERED', 403, 'REQUEST_BLOCKED'],
    ['DEFAULT_4XX', undefined, 'BAD_REQUEST'],
    ['DEFAULT_5XX', undefined, 'UPSTREAM_ERROR'],
  ];
  return table.map(([type, statusCode, code]) => ({
    service,
    type,
    statusCode,
    headers: { 'Content-Type': "'application/json'" },
    template: `{"error":{"code":"${code}","message":$context.error.messageString,"requestId":"$context.requestId"}}`,
  }));
}
