import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { logger } from '../powertools';

/** Where the X-Ray daemon listens for segment documents (UDP). */
export interface DaemonEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Every datagram starts with this line; the daemon rejects documents without it. */
const DATAGRAM_HEADER = '{"format":"json","version":1}\n';
/** The daemon's (and X-Ray's) limit for one segment document. */
const MAX_DATAGRAM_BYTES = 64 * 1024;

/**
 * Reads `AWS_XRAY_DAEMON_ADDRESS`: either `host:port` (TCP and UDP alike) or `tcp:host:port udp:host:port`
 * in any order. Only the UDP address matters here: documents go over UDP, and the TCP one is for sampling
 * rules, which Lambda decides for us.
 *
 * @returns `undefined` for a missing or malformed value, which turns tracing off rather than failing.
 */
export function parseDaemonAddress(value: string | undefined): DaemonEndpoint | undefined {
  const parts = value?.trim().split(/\s+/).filter(Boolean) ?? [];
  const udp =
    parts.length === 1 && !/^(tcp|udp):/.test(parts[0])
      ? parts[0]
      : parts.find((p) => p.startsWith('udp:'))?.slice(4);
  if (udp === undefined) return undefined;
  const colon = udp.lastIndexOf(':');
  const host = udp.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(udp.slice(colon + 1));
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

let parsedFrom: string | undefined;
let parsed: DaemonEndpoint | undefined;

/** The daemon endpoint from the environment, re-parsed only when the variable changes. */
export function daemonEndpoint(): DaemonEndpoint | undefined {
  const value = process.env.AWS_XRAY_DAEMON_ADDRESS;
  if (value !== parsedFrom) {
    parsedFrom = value;
    parsed = parseDaemonAddress(value);
  }
  return parsed;
}

let socket: Socket | undefined;
let socketIsIPv6 = false;
const inFlight = new Set<Promise<void>>();

/**
 * One socket for the environment's lifetime, created on the first sampled document (unsampled environments
 * never open one) and unref'd so that it never keeps the process alive.
 */
function socketFor(endpoint: DaemonEndpoint): Socket {
  const ipv6 = isIPv6(endpoint.host);
  if (socket && socketIsIPv6 === ipv6) return socket;
  socket?.close();
  const created = createSocket(ipv6 ? 'udp6' : 'udp4');
  created.on('error', (error) => {
    logger.debug('X-Ray daemon socket failed; opening a new one for the next document', { error });
    if (socket === created) socket = undefined;
    try {
      created.close();
    } catch {
      // Already closed: nothing left to release.
    }
  });
  created.unref();
  socket = created;
  socketIsIPv6 = ipv6;
  return created;
}

/**
 * Sends one segment document to the daemon. Never throws: tracing must not fail an invocation, so problems
 * are logged at debug level and the document is dropped. Use {@link flush} to wait until it has left.
 */
export function emit(document: object): void {
  const endpoint = daemonEndpoint();
  if (!endpoint) return;
  let payload: Buffer;
  try {
    payload = Buffer.from(DATAGRAM_HEADER + JSON.stringify(document), 'utf8');
  } catch (error) {
    logger.debug('Could not serialise an X-Ray document; dropped it', { error });
    return;
  }
  if (payload.length > MAX_DATAGRAM_BYTES) {
    logger.debug('X-Ray document exceeds 64 KB; dropped it', { bytes: payload.length });
    return;
  }
  const sent = new Promise<void>((resolve) => {
    try {
      socketFor(endpoint).send(payload, endpoint.port, endpoint.host, (error) => {
        if (error) logger.debug('Could not send an X-Ray document', { error });
        resolve();
      });
    } catch (error) {
      logger.debug('Could not send an X-Ray document', { error });
      resolve();
    }
  });
  inFlight.add(sent);
  void sent.then(() => inFlight.delete(sent));
}

/**
 * Resolves once every document emitted so far has been handed to the operating system. Lambda freezes the
 * process as soon as the handler returns, so a datagram still queued in Node by then would leave (late, in
 * the next invocation) or never. Never rejects.
 */
export async function flush(): Promise<void> {
  while (inFlight.size > 0) await Promise.all(inFlight);
}
