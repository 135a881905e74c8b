/**
 * What one request to the local gateway carries, read once from Node's `IncomingMessage`: method, raw and
 * decoded path, headers and query (single and multi-value), body and source address.
 */
import type { IncomingMessage } from 'node:http';

/** A request with no body (the body is read after the head passed the gateway's limits). */
export const EMPTY_BODY = Buffer.alloc(0);

/** What one request carries, read once. */
export interface IncomingRequest {
  /** The id API Gateway gives the request (`x-amzn-RequestId`, `$context.requestId`). */
  readonly requestId: string;
  /** Upper-case method. */
  readonly method: string;
  /** Path as sent (percent-encoded), without the query. */
  readonly rawPath: string;
  /** Decoded path as sent, e.g. `/orders/v1/orders/42`. */
  readonly calledPath: string;
  /** Query string as sent, without the `?`. */
  readonly rawQuery: string;
  /** Last value of each header, keyed by names the client chose: a null-prototype record (see {@link readRequest}). */
  readonly headers: Record<string, string>;
  /** Every value of each header (repeats join the first spelling of the name). */
  readonly multiValueHeaders: Record<string, string[]>;
  /** Last value of each query parameter (null-prototype record). */
  readonly query: Record<string, string>;
  /** Every value of each query parameter (null-prototype record). */
  readonly multiValueQuery: Record<string, string[]>;
  /** The body as received. */
  readonly body: Buffer;
  /** The client's address (IPv4-mapped IPv6 addresses as IPv4). */
  readonly sourceIp: string;
}

/** Thrown by {@link readBody} when the client closed the connection before its request was read. */
export class ClientGone extends Error {}

/**
 * Reads a request's head (the body is passed in, or {@link EMPTY_BODY} until it has been read).
 * @param req - the request as Node's HTTP server received it
 * @param requestId - the id the gateway gives it
 * @param body - its body
 */
export function readRequest(req: IncomingMessage, requestId: string, body: Buffer): IncomingRequest {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : url.slice(queryStart + 1);
  // Keyed by names the client chose (`__proto__`, `constructor`, ...): null-prototype records, so every name
  // is a plain key. proxyEvent copies them into ordinary objects, as JSON.parse would build them in Lambda.
  const headers = Object.create(null) as Record<string, string>;
  const multiValueHeaders = Object.create(null) as Record<string, string[]>;
  // Header names are case-insensitive: repeats join the first spelling.
  const spelling = new Map<string, string>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    const lower = name.toLowerCase();
    const existing = spelling.get(lower) ?? name;
    spelling.set(lower, existing);
    (multiValueHeaders[existing] ??= []).push(value);
    headers[existing] = value;
  }
  const query = Object.create(null) as Record<string, string>;
  const multiValueQuery = Object.create(null) as Record<string, string[]>;
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    (multiValueQuery[name] ??= []).push(value);
    query[name] = value;
  }
  return {
    requestId,
    method: (req.method ?? 'GET').toUpperCase(),
    rawPath,
    calledPath: rawPath.split('/').map(decodeSegment).join('/'),
    rawQuery,
    headers,
    multiValueHeaders,
    query,
    multiValueQuery,
    body,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
  };
}

/**
 * What a request Node could not parse is known by, for rendering an error response.
 * @param requestId - the id the gateway gives it
 * @param remoteAddress - the client's address, when known
 */
export function emptyRequest(requestId: string, remoteAddress: string | undefined): IncomingRequest {
  return {
    requestId,
    method: '',
    rawPath: '',
    calledPath: '',
    rawQuery: '',
    headers: Object.create(null) as Record<string, string>,
    multiValueHeaders: Object.create(null) as Record<string, string[]>,
    query: Object.create(null) as Record<string, string>,
    multiValueQuery: Object.create(null) as Record<string, string[]>,
    body: EMPTY_BODY,
    sourceIp: (remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
  };
}

/**
 * The body, or undefined as soon as it grows over `maxBytes` (reading stops there).
 * @param req - the request whose body to read
 * @param maxBytes - the largest body accepted
 * @returns the body; rejects with {@link ClientGone} when the connection closes first
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // After 'end' this changes nothing (a promise settles once).
    req.on('close', () => reject(new ClientGone('the client closed the connection')));
  });
}

/**
 * The value of a header, whatever the case of its name.
 * @param headers - headers by the names the client sent
 * @param name - the header's name in lower case
 */
export function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/**
 * Every value of a header, whatever the case of its name.
 * @param headers - headers by the names the client sent
 * @param name - the header's name in lower case
 */
export function multiValueHeader(
  headers: Readonly<Record<string, string[]>>,
  name: string,
): string[] | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** The service a path names: its first segment (`/orders/v1/x` → `orders`). */
export function firstSegment(path: string): string {
  return path.split('/')[1] ?? '';
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
