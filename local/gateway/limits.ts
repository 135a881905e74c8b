/**
 * API Gateway's documented REST API quotas a request must meet (URL length, header values, payload size,
 * method ARN length) and HTTP/1.1's Host header: the checks made on a request's head, before its body is read.
 */
import type { IncomingMessage } from 'node:http';
import type { IncomingRequest } from './request';
import { headerValue } from './request';
import type { Rejection } from './responses';

/** API Gateway's payload limit (10 MB): a larger body is refused with 413 (REQUEST_TOO_LARGE). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's limit on the URL of a regional REST API, in characters (quotas: 10240; 414 beyond). */
export const MAX_URL_CHARS = 10_240;
/** API Gateway's limit on the combined size of a REST API request's header values (quotas: 10240 bytes). */
export const MAX_HEADER_VALUE_BYTES = 10_240;
/** API Gateway's limit on the ARN of a method with authorization, path parameter values included (414 beyond). */
export const MAX_METHOD_ARN_BYTES = 1_600;

/** The rejection of a body over {@link MAX_BODY_BYTES} (declared or received). */
export const TOO_LARGE: Rejection = {
  types: ['REQUEST_TOO_LARGE'],
  message: 'Request Too Long',
  status: 413,
  reason: `body over ${MAX_BODY_BYTES} bytes`,
};

/**
 * The limits a request's head must meet: HTTP/1.1's Host header, the URL length, the size of the header values
 * and a declared body size over the payload limit. A request refused here is answered and its connection
 * closed without reading the body.
 * @param request - the request as read
 * @param req - Node's request (HTTP version, raw URL and headers)
 * @returns why the request is refused, or undefined
 */
export function checkLimits(request: IncomingRequest, req: IncomingMessage): Rejection | undefined {
  const refuse = (status: number, message: string, reason: string): Rejection => ({
    types: [],
    message,
    status,
    reason,
  });
  if (req.httpVersion === '1.1' && headerValue(request.headers, 'host') === undefined) {
    return refuse(400, 'Bad Request', 'HTTP/1.1 request without a Host header');
  }
  const url = req.url ?? '';
  if (url.length > MAX_URL_CHARS) {
    return refuse(414, 'Request-URI Too Long', `URL of ${url.length} characters`);
  }
  let headerBytes = 0;
  // rawHeaders hold one character per byte received (latin1).
  for (let i = 1; i < req.rawHeaders.length; i += 2) headerBytes += req.rawHeaders[i].length;
  if (headerBytes > MAX_HEADER_VALUE_BYTES) {
    return refuse(431, 'Request Header Fields Too Large', `header values of ${headerBytes} bytes`);
  }
  const declared = Number(headerValue(request.headers, 'content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) return TOO_LARGE;
  return undefined;
}

/**
 * API Gateway's limit on the method ARN of an authorized route (path parameter values included).
 * @param methodArn - `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}{path}`
 * @returns the 414 rejection when the ARN is too long, else undefined
 */
export function checkMethodArn(methodArn: string): Rejection | undefined {
  const bytes = Buffer.byteLength(methodArn);
  if (bytes <= MAX_METHOD_ARN_BYTES) return undefined;
  return { types: [], message: 'Request-URI Too Long', status: 414, reason: `method ARN of ${bytes} bytes` };
}
