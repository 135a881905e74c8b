/**
 * The gateway's access log: one line per request (method, path, status, duration, request id, what the
 * gateway decided), safe to print whatever the client sent.
 */

/**
 * An access-log line with control characters escaped (`\\n`, `\\x00`): decoded paths and validation
 * messages carry what the client sent, which must not forge or split log lines.
 * @param text - the line
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * The access-log line of one request.
 * @param method - the request's method (`?` when unknown)
 * @param path - the decoded path called
 * @param status - the status answered
 * @param elapsedMs - how long the gateway took
 * @param requestId - the request's id
 * @param note - what the gateway decided (response type and reason), if anything
 */
export function accessLine(
  method: string,
  path: string,
  status: number,
  elapsedMs: number,
  requestId: string,
  note: string | undefined,
): string {
  return oneLine(`${method} ${path} ${status} ${elapsedMs}ms ${requestId}${note ? ` ${note}` : ''}`);
}

/**
 * An error for the log: its stack when it has one.
 * @param error - what was thrown
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
