/**
 * The gateway's HTTP server: Node's server set up to accept what API Gateway would receive (any header count,
 * heads up to 64 KB, no Host required by Node), each request read once and checked against API Gateway's
 * quotas before its body is read, early refusals answered without losing the answer, and what Node's parser
 * refuses (or hands over raw, such as CONNECT) answered in the services' error shape.
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LocalRoute } from '../model';
import { accessLine, describeError, oneLine } from './access-log';
import { checkLimits, MAX_BODY_BYTES, TOO_LARGE } from './limits';
import type { IncomingRequest } from './request';
import { ClientGone, EMPTY_BODY, emptyRequest, firstSegment, readBody, readRequest } from './request';
import type { HttpReply, Rejection } from './responses';
import { INTERNAL_ERROR_REPLY } from './responses';
import { closeServer } from '../util';

/**
 * Node's HTTP parser limit on the request line and headers. Above API Gateway's own limits, so that a request
 * over those reaches the gateway and gets the service's error response; beyond it the parser refuses the
 * request (answered by the `clientError` handler in the same shape).
 */
const PARSER_MAX_HEADER_BYTES = 64 * 1024;
/** After refusing a request early, how long to discard what the client still sends before closing. */
const LINGER_MS = 1_000;

/** What the server asks of the gateway. */
export interface RequestHandler {
  /** Answers a request whose head met the limits and whose body has been read. */
  route(request: IncomingRequest): Promise<HttpReply>;
  /** Renders the gateway response of a rejection for the service a path names ('' when none). */
  reject(
    service: string,
    request: IncomingRequest,
    route: LocalRoute | undefined,
    rejection: Rejection,
  ): HttpReply;
  /** Receives the access log. */
  log(line: string): void;
}

/** A started server's address. */
export interface ListeningAddress {
  /** The address listened on. */
  readonly host: string;
  /** The port bound. */
  readonly port: number;
}

/** The gateway's HTTP/1.1 server on a loopback port. */
export class GatewayServer {
  private server?: Server;

  /**
   * @param handler - routes requests and renders rejections
   */
  constructor(private readonly handler: RequestHandler) {}

  /**
   * Starts listening.
   * @param port - the port (0 picks a free one)
   * @param host - the loopback address
   * @returns the address once the port is bound
   */
  async start(port: number, host: string): Promise<ListeningAddress> {
    if (this.server) throw new Error('LocalApiGateway is already started');
    const server = createServer(
      // Node would answer an HTTP/1.1 request without Host with an empty 400 itself: checkLimits does.
      { maxHeaderSize: PARSER_MAX_HEADER_BYTES, requireHostHeader: false },
      (req, res) => void this.handle(req, res),
    );
    server.keepAliveTimeout = 5_000;
    // Every header counts against API Gateway's limits (Node would silently drop those after the 2000th).
    server.maxHeadersCount = 0;
    // Requests Node's parser refuses (unknown methods, malformed or oversized heads) get the documented
    // error shape too, as do CONNECT requests and unknown Expect headers (which Node would not route).
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
      this.clientError(error, socket),
    );
    server.on('connect', (req: IncomingMessage, socket: Duplex) => void this.connect(req, socket));
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return { host, port: (server.address() as AddressInfo).port };
  }

  /** Stops listening and closes every open connection. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { handler } = this;
    const started = Date.now();
    const requestId = randomUUID();
    let reply: HttpReply;
    let incoming: IncomingRequest | undefined;
    try {
      incoming = readRequest(req, requestId, EMPTY_BODY);
      const refused = checkLimits(incoming, req);
      if (refused) {
        reply = this.refuse(incoming, refused);
      } else {
        const body = await readBody(req, MAX_BODY_BYTES);
        if (body === undefined) {
          reply = this.refuse(incoming, TOO_LARGE);
        } else {
          incoming = { ...incoming, body };
          reply = await handler.route(incoming);
        }
      }
    } catch (error) {
      if (error instanceof ClientGone) {
        handler.log(
          oneLine(
            `${req.method ?? '?'} ${incoming?.calledPath ?? ''} client closed the connection ${requestId}`,
          ),
        );
        return;
      }
      handler.log(`gateway error ${requestId}: ${describeError(error)}`);
      reply = INTERNAL_ERROR_REPLY;
    }
    // Not when clientError has answered (a malformed body) or the client is gone.
    if (!res.headersSent && !req.socket.writableEnded && !req.socket.destroyed) {
      const headers = { ...reply.headers, 'x-amzn-RequestId': requestId };
      if (reply.close) {
        answerAndClose(req, res, reply.status, headers, reply.body);
      } else {
        res.writeHead(reply.status, headers);
        res.end(reply.body);
      }
    }
    const path = incoming ? incoming.calledPath : (req.url ?? '');
    handler.log(
      accessLine(req.method ?? '?', path, reply.status, Date.now() - started, requestId, reply.note),
    );
  }

  /** A rejection of the request's head: answered, then the connection closed. */
  private refuse(request: IncomingRequest, rejection: Rejection): HttpReply {
    const reply = this.handler.reject(firstSegment(request.calledPath), request, undefined, rejection);
    return { ...reply, close: true };
  }

  /**
   * Answers what Node's HTTP parser refuses before a request exists (unknown method, malformed request line
   * or headers, a head over {@link PARSER_MAX_HEADER_BYTES}) in the services' error shape, then closes.
   */
  private clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // What follows a request that is being answered (and cannot be a request): let the answer finish, then
    // close (destroying the socket now would drop an answer still being written, such as answerAndClose's).
    const inFlight = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight?.headersSent || error.code === 'HPE_CLOSED_CONNECTION') {
      if (inFlight && !inFlight.writableEnded) inFlight.end();
      socket.end();
      return;
    }
    const [status, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout']
          : [400, 'Bad Request'];
    const request = emptyRequest(randomUUID(), (socket as { remoteAddress?: string }).remoteAddress);
    const reply = this.handler.reject('', request, undefined, {
      types: [],
      message,
      status,
      reason: error.code,
    });
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(reply, request.requestId));
    this.handler.log(
      `? (unparsed request) ${reply.status} 0ms ${request.requestId} ${reply.note ?? ''}`.trimEnd(),
    );
  }

  /** CONNECT (which Node hands over as a raw socket): no API Gateway route has it. */
  private async connect(req: IncomingMessage, socket: Duplex): Promise<void> {
    const { handler } = this;
    socket.on('error', () => socket.destroy());
    const started = Date.now();
    const incoming = readRequest(req, randomUUID(), EMPTY_BODY);
    let reply: HttpReply;
    try {
      const refused = checkLimits(incoming, req);
      reply = refused ? this.refuse(incoming, refused) : await handler.route(incoming);
    } catch (error) {
      handler.log(`gateway error ${incoming.requestId}: ${describeError(error)}`);
      reply = INTERNAL_ERROR_REPLY;
    }
    if (socket.writable) socket.end(rawResponse(reply, incoming.requestId));
    handler.log(
      accessLine(
        incoming.method,
        incoming.calledPath,
        reply.status,
        Date.now() - started,
        incoming.requestId,
        reply.note,
      ),
    );
  }
}

/**
 * Answers a request refused before its body was read (413, 414, 431) and closes the connection: the whole
 * answer goes out at once (with its length, so the client has it while it may still be sending), what the
 * client still sends is discarded (not buffered) until its body ends or for {@link LINGER_MS} at most, and
 * only then does the response end and Node close the connection (closing with unread data would reset the
 * connection, and the client could lose the answer).
 */
function answerAndClose(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer | string,
): void {
  const payload = Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Length': payload.length, Connection: 'close' });
  res.write(payload);
  const finish = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(finish, LINGER_MS);
  timer.unref();
  req.once('end', finish);
  req.once('close', finish);
  req.on('data', () => undefined);
  req.resume();
}

/** An HTTP/1.1 response written directly on a socket (for requests Node's server does not answer). */
function rawResponse(reply: HttpReply, requestId: string): Buffer {
  const body = Buffer.from(reply.body);
  const lines = [`HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Error'}`];
  const skip = new Set(['content-length', 'connection', 'transfer-encoding']);
  for (const [name, value] of Object.entries(reply.headers)) {
    if (skip.has(name.toLowerCase())) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  lines.push(`x-amzn-RequestId: ${requestId}`, `Content-Length: ${body.length}`, 'Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}
