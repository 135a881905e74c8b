import { createPublicKey, randomUUID, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { createServer, request as httpRequest, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { callAwsJson, EmulatorError } from './emulator';
import { parseSigV4, verifySigV4 } from './sigv4';
import type { AccessDecision, CallerPrincipal } from './iam/authorizer';
import { validateJsonSchema } from './json-schema';
import type { WebAclGuard } from './waf';
import type { EmulatorEndpoint, Invoke, LocalGatewayResponse, LocalIdentity, LocalRoute } from './model';

/** Options of {@link LocalApiGateway}. */
export interface LocalApiGatewayOptions {
  /** Every route of every service. */
  readonly routes: readonly LocalRoute[];
  /** The gateway responses (error templates) of every service. */
  readonly gatewayResponses: readonly LocalGatewayResponse[];
  /** The user pool and its client; tokens of this client skip the client lookup. */
  readonly identity?: LocalIdentity;
  /** The emulator: serves the pools' JWKS and holds the credentials IAM-signed requests must use. */
  readonly emulator: EmulatorEndpoint;
  /** Runs a route's function. */
  readonly invoke: Invoke;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 3000
   */
  readonly port?: number;
  /**
   * Address to listen on (loopback only).
   * @default '127.0.0.1'
   */
  readonly host?: '127.0.0.1';
  /**
   * Scopes a pre-token-generation trigger would add to an access token with these claims (the emulator
   * does not run Cognito triggers). Called once per token and cached for up to 5 minutes, like API
   * Gateway's authorizer cache.
   */
  readonly extraScopes?: (claims: Record<string, unknown>) => Promise<string[]>;
  /**
   * IAM as AWS enforces it at the gateway: who signs with an access key (SigV4 callers of `AWS_IAM` routes need
   * `execute-api:Invoke` on the method ARN), and whether the route's function lets API Gateway invoke it.
   * @default - only the emulator's credentials sign IAM routes, and they may call every IAM route
   */
  readonly iam?: GatewayIam;
  /**
   * The web ACLs associated with the services' API stages (local/waf.ts), evaluated before routing and
   * authorization; a request they do not allow gets the API's WAF_FILTERED response.
   * @default - no web ACL is evaluated (enforcement off)
   */
  readonly waf?: Pick<WebAclGuard, 'inspect'>;
  /** Receives one access-log line per request and any integration errors. */
  readonly log?: (line: string) => void;
}

/** What the gateway asks of the runtime's IAM enforcement. */
export interface GatewayIam {
  /** The secret and principal of an access key; undefined when the key is unknown. */
  signer(
    accessKeyId: string,
  ): { readonly secretAccessKey: string; readonly principal: CallerPrincipal } | undefined;
  /** `execute-api:Invoke` on the method ARN of the path called. */
  authorizeInvoke(principal: CallerPrincipal, route: LocalRoute, path: string): Promise<AccessDecision>;
  /** A reason when the route's function has no permission for API Gateway (the call is answered 500). */
  integrationDenied(route: LocalRoute): { readonly decision: AccessDecision } | undefined;
  /** AWS's AccessDenied message. */
  message(decision: AccessDecision): string;
}

/** Where a started {@link LocalApiGateway} listens. */
export interface LocalApiGatewayAddress {
  /** e.g. `http://127.0.0.1:3000` (routes are under `/{service}/...`). */
  readonly url: string;
  readonly port: number;
}

/** API Gateway's limit on a Lambda integration. */
const INTEGRATION_TIMEOUT_MS = 29_000;
/** API Gateway's payload limit (10 MB): a larger body is refused with 413 (REQUEST_TOO_LARGE). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's limit on the URL of a regional REST API, in characters (quotas: 10240; 414 beyond). */
const MAX_URL_CHARS = 10_240;
/** API Gateway's limit on the combined size of a REST API request's header values (quotas: 10240 bytes). */
const MAX_HEADER_VALUE_BYTES = 10_240;
/** API Gateway's limit on the ARN of a method with authorization, path parameter values included (414 beyond). */
const MAX_METHOD_ARN_BYTES = 1_600;
/**
 * Node's HTTP parser limit on the request line and headers. Above API Gateway's own limits, so that a request
 * over those reaches the gateway and gets the service's error response; beyond it the parser refuses the
 * request (answered by {@link LocalApiGateway} `clientError` in the same shape).
 */
const PARSER_MAX_HEADER_BYTES = 64 * 1024;
/** After refusing a request early, how long to discard what the client still sends before closing. */
const LINGER_MS = 1_000;
/** The methods API Gateway serves (`ANY` stands for these); any other method matches no route. */
const API_GATEWAY_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
]);
const EMPTY_BODY = Buffer.alloc(0);
/** Lifetime of cached authorizer results (the Microservice authorizer's resultsCacheTtl). */
const AUTHORIZER_CACHE_MS = 5 * 60_000;
/** Minimum time between two JWKS downloads of one pool when a token names an unknown key. */
const JWKS_REFRESH_MS = 10_000;
/** Verified access tokens remembered at most (see verifyToken); the oldest is forgotten first. */
const VERIFIED_TOKENS_KEPT = 1_000;
const EMULATOR_TIMEOUT_MS = 10_000;
/** Placeholder account of IAM callers (moto's default account). */
const CALLER_ACCOUNT = '123456789012';

/** A gateway-generated error: which response type renders it, and the message it carries. */
interface Rejection {
  /** Response types to look for in order (the first one the service defines wins). */
  readonly types: readonly string[];
  readonly message: string;
  /** Status when the service defines none of the types and no DEFAULT_4XX/5XX status. */
  readonly status: number;
  /** Detail for the access log only (API Gateway does not reveal it either). */
  readonly reason?: string;
  readonly validationErrorString?: string;
}

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

interface CompiledRoute {
  readonly route: LocalRoute;
  readonly segments: readonly Segment[];
}

interface Match {
  readonly compiled: CompiledRoute[];
  readonly pathParameters: Record<string, string>;
  /** Path under the service (and stage), e.g. `/orders/42`. */
  readonly path: string;
}

/** What one request carries, read once. */
interface IncomingRequest {
  readonly requestId: string;
  readonly method: string;
  /** Path as sent (percent-encoded), without the query. */
  readonly rawPath: string;
  /** Decoded path as sent, e.g. `/orders/v1/orders/42`. */
  readonly calledPath: string;
  readonly rawQuery: string;
  /** Keyed by names the client chose: null-prototype records (see readRequest). */
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly query: Record<string, string>;
  readonly multiValueQuery: Record<string, string[]>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

/** The outcome of an authorizer: claims (Cognito) or identity (IAM) for the event, or a rejection. */
type Authorization =
  | {
      readonly ok: true;
      readonly claims?: Record<string, string>;
      readonly identity?: Record<string, string>;
    }
  | Refusal;

/** An authorizer's refusal. */
interface Refusal {
  readonly ok: false;
  readonly rejection: Rejection;
}

/** Cognito authorizer's 401 for a missing, malformed or unacceptable token (`reason` is only logged). */
function unauthorized(reason: string): Refusal {
  return { ok: false, rejection: { types: ['UNAUTHORIZED'], message: 'Unauthorized', status: 401, reason } };
}

interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | string;
  /** Route response type or `integration` / `handler`, for the log. */
  readonly note?: string;
  /** Answered before the body was read: close the connection after the answer. */
  readonly close?: boolean;
}

/** The client closed the connection before its request was read. */
class ClientGone extends Error {}

/**
 * API Gateway (REST API, Lambda proxy integration) on a loopback port for the local runtime: serves every
 * service's routes at `/{service}/{path}` (and `/{service}/{stage}/{path}`), checks Cognito access tokens
 * against the emulator's JWKS and the route's scopes, checks SigV4 signatures of IAM routes against the
 * emulator's credentials, validates required parameters and JSON bodies, invokes the route's function with
 * an API Gateway proxy event and renders the services' gateway responses for everything it rejects.
 */
export class LocalApiGateway {
  private readonly options: LocalApiGatewayOptions;
  private readonly services: ReadonlyMap<string, CompiledRoute[]>;
  private readonly log: (line: string) => void;
  private server?: Server;
  private readonly jwks = new Map<string, { keys: Promise<Map<string, KeyObject>>; fetchedAt: number }>();
  private readonly knownClients = new Map<string, Promise<boolean>>();
  private readonly scopeCache = new Map<string, { scopes: Promise<string[]>; until: number }>();
  /** Claims of tokens whose signature, issuer and use passed, by user pool and token (see verifyToken). */
  private readonly verifiedTokens = new Map<string, Record<string, unknown>>();

  constructor(options: LocalApiGatewayOptions) {
    this.options = options;
    this.log = options.log ?? (() => undefined);
    const services = new Map<string, CompiledRoute[]>();
    for (const route of options.routes) {
      const list = services.get(route.service) ?? [];
      list.push({ route, segments: compilePath(route.resourcePath) });
      services.set(route.service, list);
    }
    this.services = services;
  }

  /** Starts listening; resolves with the base URL once the port is bound. */
  public async start(): Promise<LocalApiGatewayAddress> {
    if (this.server) throw new Error('LocalApiGateway is already started');
    const host = this.options.host ?? '127.0.0.1';
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
      server.listen(this.options.port ?? 3000, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    return { url: `http://${host}:${port}`, port };
  }

  /** Stops listening and closes every open connection. */
  public async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const requestId = randomUUID();
    let reply: HttpReply;
    let incoming: IncomingRequest | undefined;
    try {
      incoming = readRequest(req, requestId, EMPTY_BODY);
      const refused = this.checkLimits(incoming, req);
      if (refused) {
        reply = refused;
      } else {
        const body = await readBody(req);
        if (body === undefined) {
          reply = this.tooLarge(incoming);
        } else {
          incoming = { ...incoming, body };
          reply = await this.route(incoming);
        }
      }
    } catch (error) {
      if (error instanceof ClientGone) {
        this.log(
          oneLine(
            `${req.method ?? '?'} ${incoming?.calledPath ?? ''} client closed the connection ${requestId}`,
          ),
        );
        return;
      }
      this.log(`gateway error ${requestId}: ${describe(error)}`);
      reply = { status: 500, headers: { 'Content-Type': 'application/json' }, body: INTERNAL_ERROR_BODY };
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
    const note = reply.note ? ` ${reply.note}` : '';
    this.log(
      oneLine(`${req.method ?? '?'} ${path} ${reply.status} ${Date.now() - started}ms ${requestId}${note}`),
    );
  }

  private tooLarge(request: IncomingRequest): HttpReply {
    const service = firstSegment(request.calledPath);
    const reply = this.reject(service, request, undefined, {
      types: ['REQUEST_TOO_LARGE'],
      message: 'Request Too Long',
      status: 413,
      reason: `body over ${MAX_BODY_BYTES} bytes`,
    });
    return { ...reply, close: true };
  }

  /**
   * API Gateway's documented REST API limits a request's head must meet (URL length, header values), a
   * declared body size over the payload limit and HTTP/1.1's Host header: checked before the body is read.
   */
  private checkLimits(request: IncomingRequest, req: IncomingMessage): HttpReply | undefined {
    const service = firstSegment(request.calledPath);
    const refuse = (status: number, message: string, reason: string): HttpReply => ({
      ...this.reject(service, request, undefined, { types: [], message, status, reason }),
      close: true,
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
    if (declared > MAX_BODY_BYTES) return this.tooLarge(request);
    return undefined;
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
    const reply = this.reject('', request, undefined, { types: [], message, status, reason: error.code });
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(reply, request.requestId));
    this.log(`? (unparsed request) ${reply.status} 0ms ${request.requestId} ${reply.note ?? ''}`.trimEnd());
  }

  /** CONNECT (which Node hands over as a raw socket): no API Gateway route has it. */
  private async connect(req: IncomingMessage, socket: Duplex): Promise<void> {
    socket.on('error', () => socket.destroy());
    const started = Date.now();
    const incoming = readRequest(req, randomUUID(), EMPTY_BODY);
    let reply: HttpReply;
    try {
      reply = this.checkLimits(incoming, req) ?? (await this.route(incoming));
    } catch (error) {
      this.log(`gateway error ${incoming.requestId}: ${describe(error)}`);
      reply = { status: 500, headers: { 'Content-Type': 'application/json' }, body: INTERNAL_ERROR_BODY };
    }
    if (socket.writable) socket.end(rawResponse(reply, incoming.requestId));
    const note = reply.note ? ` ${reply.note}` : '';
    this.log(
      oneLine(
        `${incoming.method} ${incoming.calledPath} ${reply.status} ${Date.now() - started}ms ${incoming.requestId}${note}`,
      ),
    );
  }

  private async route(request: IncomingRequest): Promise<HttpReply> {
    const service = firstSegment(request.calledPath);
    const routes = this.services.get(service);
    if (!routes) return this.unknownService(service, request);
    const blocked = this.options.waf?.inspect(service, request);
    if (blocked) return this.reject(service, request, undefined, blocked);
    const match = matchRoute(routes, request.calledPath.slice(service.length + 1));
    const compiled = match?.compiled.find(
      (c) =>
        c.route.method.toUpperCase() === request.method ||
        (c.route.method.toUpperCase() === 'ANY' && API_GATEWAY_METHODS.has(request.method)),
    );
    if (!match || !compiled) {
      return this.reject(service, request, undefined, {
        types: ['MISSING_AUTHENTICATION_TOKEN'],
        message: 'Missing Authentication Token',
        status: 403,
        reason: match ? `no ${request.method} method on this resource` : 'no such resource',
      });
    }
    const { route } = compiled;

    if (route.authorization.type !== 'NONE') {
      const arn = `arn:aws:execute-api:${this.options.emulator.region}:${CALLER_ACCOUNT}:local-${service}/${route.stage}/${request.method}${match.path}`;
      if (Buffer.byteLength(arn) > MAX_METHOD_ARN_BYTES) {
        return this.reject(service, request, route, {
          types: [],
          message: 'Request-URI Too Long',
          status: 414,
          reason: `method ARN of ${Buffer.byteLength(arn)} bytes`,
        });
      }
    }

    const authorization = await this.authorize(route, request);
    if (!authorization.ok) return this.reject(service, request, route, authorization.rejection);

    const invalid = validateRequest(route, request, match.pathParameters);
    if (invalid) return this.reject(service, request, route, invalid);

    const event = proxyEvent(route, request, match, authorization);
    return this.integrate(route, request, event);
  }

  private async integrate(route: LocalRoute, request: IncomingRequest, event: unknown): Promise<HttpReply> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), INTEGRATION_TIMEOUT_MS);
    });
    try {
      const denied = this.options.iam?.integrationDenied(route);
      if (denied) {
        // API Gateway logs "Execution failed due to configuration error: Invalid permissions on Lambda function".
        this.log(`${route.functionKey}: invalid permissions on Lambda function: ${denied.decision.reason}`);
        return this.reject(route.service, request, route, {
          types: [],
          message: 'Internal server error',
          status: 500,
          reason: 'invalid permissions on Lambda function',
        });
      }
      const result = await Promise.race([this.options.invoke(route.functionKey, event), timeout]);
      if (result === 'timeout') {
        this.log(`${route.functionKey} did not answer within ${INTEGRATION_TIMEOUT_MS / 1000} s`);
        return this.reject(route.service, request, route, {
          types: ['INTEGRATION_TIMEOUT'],
          message: 'Endpoint request timed out',
          status: 504,
        });
      }
      const reply = proxyResult(result);
      if (typeof reply === 'string') {
        this.log(`${route.functionKey} returned a malformed Lambda proxy response: ${reply}`);
        return this.internalError(route, request, 'malformed Lambda proxy response');
      }
      return reply;
    } catch (error) {
      this.log(`${route.functionKey} failed: ${describe(error)}`);
      return this.internalError(route, request, 'function error');
    } finally {
      clearTimeout(timer);
    }
  }

  private internalError(route: LocalRoute, request: IncomingRequest, reason: string): HttpReply {
    return this.reject(route.service, request, route, {
      types: [],
      message: 'Internal server error',
      status: 502,
      reason,
    });
  }

  private unknownService(service: string, request: IncomingRequest): HttpReply {
    const known = [...this.services.keys()].sort();
    const message = `No service "${service}" here; services: ${known.join(', ') || 'none'}`;
    // Render with any service's route-not-found template so every 404 has the same shape.
    const template = this.options.gatewayResponses.find((r) => r.type === 'MISSING_AUTHENTICATION_TOKEN');
    const context = templateContext(request, undefined, message, 'MISSING_AUTHENTICATION_TOKEN');
    if (template?.template) {
      return {
        status: 404,
        headers: { ...responseHeaders(template, request), 'Content-Type': 'application/json' },
        body: renderTemplate(template.template, context),
        note: 'unknown service',
      };
    }
    const body = { error: { code: 'ROUTE_NOT_FOUND', message, requestId: request.requestId } };
    return {
      status: 404,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      note: 'unknown service',
    };
  }

  /** Renders the service's gateway response for a rejection (API Gateway's default body when it has none). */
  private reject(
    service: string,
    request: IncomingRequest,
    route: LocalRoute | undefined,
    rejection: Rejection,
  ): HttpReply {
    let responses = this.options.gatewayResponses.filter((r) => r.service === service);
    // An unknown service (or none, for a request Node could not parse): any service's responses, so every
    // error the gateway generates has the same shape.
    if (responses.length === 0 && !this.services.has(service)) {
      const other = this.options.gatewayResponses.map((r) => r.service).sort()[0];
      responses = this.options.gatewayResponses.filter((r) => r.service === other);
    }
    const specific = rejection.types.map((t) => responses.find((r) => r.type === t)).find((r) => r);
    const fallbackType = rejection.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
    const fallback = responses.find((r) => r.type === fallbackType);
    const definition = specific ?? fallback;
    const status = specific
      ? (specific.statusCode ?? rejection.status)
      : (fallback?.statusCode ?? rejection.status);
    const type = specific?.type ?? rejection.types[0] ?? fallbackType;
    const note = `${type}${rejection.reason ? `: ${rejection.reason}` : ''}`;
    const context = templateContext(request, route, rejection.message, type);
    const contextWithValidation = {
      ...context,
      'error.validationErrorString': rejection.validationErrorString ?? '',
    };
    if (definition?.template !== undefined) {
      return {
        status,
        headers: { 'Content-Type': 'application/json', ...responseHeaders(definition, request) },
        body: renderTemplate(definition.template, contextWithValidation),
        note,
      };
    }
    return {
      status,
      headers: {
        'Content-Type': 'application/json',
        ...(definition ? responseHeaders(definition, request) : {}),
      },
      body: JSON.stringify({ message: rejection.message }),
      note,
    };
  }

  // --- Authorization ----------------------------------------------------------------------------------

  private async authorize(route: LocalRoute, request: IncomingRequest): Promise<Authorization> {
    const { authorization } = route;
    switch (authorization.type) {
      case 'NONE':
        return { ok: true };
      case 'AWS_IAM':
        return this.authorizeIam(route, request);
      case 'COGNITO_USER_POOLS':
        return this.authorizeCognito(authorization.userPoolId, authorization.scopes, request);
      default:
        return {
          ok: false,
          rejection: {
            types: ['AUTHORIZER_CONFIGURATION_ERROR'],
            message: 'Internal server error',
            status: 500,
            reason: `unsupported authorization ${JSON.stringify(authorization)}`,
          },
        };
    }
  }

  private async authorizeCognito(
    userPoolId: string,
    requiredScopes: readonly string[],
    request: IncomingRequest,
  ): Promise<Authorization> {
    const header = headerValue(request.headers, 'authorization')?.trim();
    if (!header) return unauthorized('no Authorization header');
    const token = header.replace(/^Bearer\s+/i, '');
    const verified = await this.verifyToken(userPoolId, token);
    if ('rejection' in verified) return verified;
    const { claims } = verified;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
      return {
        ok: false,
        rejection: {
          types: ['EXPIRED_TOKEN', 'UNAUTHORIZED'],
          message: 'The incoming token has expired',
          status: 401,
          reason: 'token expired',
        },
      };
    }
    if (typeof claims.client_id !== 'string') return unauthorized('no client_id claim');
    try {
      if (!(await this.isClientOf(userPoolId, claims.client_id))) {
        return unauthorized(`client ${claims.client_id} is not a client of ${userPoolId}`);
      }
    } catch (error) {
      return this.authorizerFailure(`client lookup: ${describe(error)}`);
    }

    let extra: string[];
    try {
      extra = await this.extraScopesOf(token, claims);
    } catch (error) {
      return this.authorizerFailure(`extraScopes: ${describe(error)}`);
    }
    const scopes = [...new Set([...String(claims.scope ?? '').split(/\s+/), ...extra].filter(Boolean))];
    if (requiredScopes.length > 0 && !requiredScopes.some((s) => scopes.includes(s))) {
      return {
        ok: false,
        rejection: {
          types: ['ACCESS_DENIED'],
          message: 'Forbidden',
          status: 403,
          reason: `token scopes [${scopes.join(' ')}] lack any of [${requiredScopes.join(' ')}]`,
        },
      };
    }
    return { ok: true, claims: claimsForEvent({ ...claims, scope: scopes.join(' ') }) };
  }

  private authorizerFailure(reason: string): Refusal {
    this.log(`authorizer failure: ${reason}`);
    return {
      ok: false,
      rejection: { types: ['AUTHORIZER_FAILURE'], message: 'Internal server error', status: 500, reason },
    };
  }

  /** Issuers accepted for a pool: Cognito's (what moto writes) and the emulator's own URL (LocalStack). */
  private issuers(userPoolId: string): string[] {
    const poolRegion = /^([a-z]{2}(?:-[a-z]+)+-\d+)_/.exec(userPoolId)?.[1] ?? this.options.emulator.region;
    return [
      `https://cognito-idp.${poolRegion}.amazonaws.com/${userPoolId}`,
      `${this.options.emulator.endpoint.replace(/\/+$/, '')}/${userPoolId}`,
    ];
  }

  private async signingKey(userPoolId: string, kid: string): Promise<KeyObject | undefined> {
    let cached = this.jwks.get(userPoolId);
    if (!cached) cached = this.fetchJwks(userPoolId);
    let key: KeyObject | undefined;
    try {
      key = (await cached.keys).get(kid);
    } catch (error) {
      if (this.jwks.get(userPoolId) === cached) this.jwks.delete(userPoolId);
      throw error;
    }
    if (!key && Date.now() - cached.fetchedAt > JWKS_REFRESH_MS) {
      key = (await this.fetchJwks(userPoolId).keys).get(kid);
    }
    return key;
  }

  private fetchJwks(userPoolId: string): { keys: Promise<Map<string, KeyObject>>; fetchedAt: number } {
    const url = `${this.options.emulator.endpoint.replace(/\/+$/, '')}/${userPoolId}/.well-known/jwks.json`;
    const keys = getJson(url).then((document) => {
      const map = new Map<string, KeyObject>();
      const list = (document as { keys?: unknown }).keys;
      if (!Array.isArray(list)) throw new Error(`${url} has no "keys"`);
      for (const jwk of list as Array<JsonWebKey & { kid?: string }>) {
        if (jwk.kty !== 'RSA' || typeof jwk.kid !== 'string') continue;
        map.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      }
      return map;
    });
    const entry = { keys, fetchedAt: Date.now() };
    this.jwks.set(userPoolId, entry);
    return entry;
  }

  /**
   * The claims of an access token of the user pool whose signature, issuer and use have been checked
   * (its expiry is checked on every request). A token that passed is remembered until it expires, as an
   * API Gateway authorizer caches it, so a client sending the same token does not cost an RSA check per call.
   */
  private async verifyToken(
    userPoolId: string,
    token: string,
  ): Promise<{ readonly claims: Record<string, unknown> } | Refusal> {
    const cacheKey = `${userPoolId} ${token}`;
    const remembered = this.verifiedTokens.get(cacheKey);
    if (remembered) return { claims: remembered };
    const jwt = parseJwt(token);
    if (!jwt) return unauthorized('not a JWT');
    if (jwt.header.alg !== 'RS256' || typeof jwt.header.kid !== 'string') {
      return unauthorized(`unsupported JWT header ${JSON.stringify(jwt.header)}`);
    }
    let key: KeyObject | undefined;
    try {
      key = await this.signingKey(userPoolId, jwt.header.kid);
    } catch (error) {
      return this.authorizerFailure(`JWKS of ${userPoolId}: ${describe(error)}`);
    }
    if (!key) return unauthorized(`unknown key id ${jwt.header.kid}`);
    if (!verify('RSA-SHA256', Buffer.from(jwt.signedPart), key, jwt.signature)) {
      return unauthorized('bad token signature');
    }
    const claims = jwt.payload;
    if (!this.issuers(userPoolId).includes(String(claims.iss))) {
      return unauthorized(`issuer ${String(claims.iss)} is not user pool ${userPoolId}`);
    }
    if (claims.token_use !== 'access')
      return unauthorized(`token_use is ${String(claims.token_use)}, not access`);
    if (typeof claims.exp === 'number' && claims.exp * 1000 > Date.now()) {
      // Forget the oldest when full (Maps iterate in insertion order); an expired one left in is refused anyway.
      if (this.verifiedTokens.size >= VERIFIED_TOKENS_KEPT) {
        this.verifiedTokens.delete(this.verifiedTokens.keys().next().value as string);
      }
      this.verifiedTokens.set(cacheKey, claims);
    }
    return { claims };
  }

  private isClientOf(userPoolId: string, clientId: string): Promise<boolean> {
    const { identity } = this.options;
    if (identity && identity.userPoolId === userPoolId && identity.userPoolClientId === clientId) {
      return Promise.resolve(true);
    }
    const cacheKey = `${userPoolId}/${clientId}`;
    let known = this.knownClients.get(cacheKey);
    if (!known) {
      known = callAwsJson(this.options.emulator, 'cognito-idp', 'DescribeUserPoolClient', {
        UserPoolId: userPoolId,
        ClientId: clientId,
      }).then(
        () => true,
        (error: unknown) => {
          this.knownClients.delete(cacheKey);
          if (error instanceof EmulatorError && error.code === 'ResourceNotFoundException') return false;
          throw error;
        },
      );
      this.knownClients.set(cacheKey, known);
    }
    return known;
  }

  private extraScopesOf(token: string, claims: Record<string, unknown>): Promise<string[]> {
    const { extraScopes } = this.options;
    if (!extraScopes) return Promise.resolve([]);
    const now = Date.now();
    for (const [key, entry] of this.scopeCache) if (entry.until <= now) this.scopeCache.delete(key);
    const cached = this.scopeCache.get(token);
    if (cached) return cached.scopes;
    const scopes = extraScopes(claims);
    const until = Math.min(now + AUTHORIZER_CACHE_MS, Number(claims.exp) * 1000);
    this.scopeCache.set(token, { scopes, until });
    scopes.catch(() => this.scopeCache.delete(token));
    return scopes;
  }

  private async authorizeIam(route: LocalRoute, request: IncomingRequest): Promise<Authorization> {
    const denied = (message: string, reason: string, types = ['ACCESS_DENIED']): Authorization => ({
      ok: false,
      rejection: { types, message, status: 403, reason },
    });
    const invalid = (reason: string) =>
      denied(
        'The request signature we calculated does not match the signature you provided. Check your AWS ' +
          'Secret Access Key and signing method. Consult the service documentation for details.',
        reason,
        ['INVALID_SIGNATURE'],
      );
    const { emulator } = this.options;
    const header = headerValue(request.headers, 'authorization');
    if (!header) return denied('Missing Authentication Token', 'no Authorization header');
    const parsed = parseSigV4(header);
    if (!parsed) return denied(`Authorization header is not AWS4-HMAC-SHA256`, 'not a SigV4 signature');
    const { accessKeyId, region, service } = parsed;
    const caller = this.options.iam
      ? this.options.iam.signer(accessKeyId)
      : accessKeyId === emulator.accessKeyId
        ? { secretAccessKey: emulator.secretAccessKey, principal: undefined }
        : undefined;
    if (!caller) {
      return denied(
        'The security token included in the request is invalid.',
        `unknown access key ${accessKeyId}`,
      );
    }
    if (service !== 'execute-api' || region !== emulator.region) {
      return invalid(`credential scope ${region}/${service} is not ${emulator.region}/execute-api`);
    }
    const failure = await verifySigV4(
      {
        method: request.method,
        path: request.rawPath,
        query: request.multiValueQuery,
        header: (name) => multiValueHeader(request.multiValueHeaders, name),
        body: request.body,
      },
      parsed,
      caller.secretAccessKey,
    );
    if (failure) return invalid(failure);
    if (this.options.iam && caller.principal) {
      const decision = await this.options.iam.authorizeInvoke(
        caller.principal,
        route,
        request.calledPath.slice(route.service.length + 1),
      );
      if (!decision.allowed) return denied(this.options.iam.message(decision), decision.reason);
    }
    return {
      ok: true,
      identity: {
        accessKey: accessKeyId,
        accountId: CALLER_ACCOUNT,
        caller: `${accessKeyId}:local`,
        user: `${accessKeyId}:local`,
        userArn: `arn:aws:iam::${CALLER_ACCOUNT}:user/local`,
      },
    };
  }
}

// --- Requests -------------------------------------------------------------------------------------------

/**
 * The body, or undefined as soon as it grows over API Gateway's payload limit (reading stops there);
 * rejects with ClientGone when the connection closes first.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
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

/** What a request Node could not parse is known by, for rendering an error response. */
function emptyRequest(requestId: string, remoteAddress: string | undefined): IncomingRequest {
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

function readRequest(req: IncomingMessage, requestId: string, body: Buffer): IncomingRequest {
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

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function firstSegment(path: string): string {
  return path.split('/')[1] ?? '';
}

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** An ordinary object with the same own entries (`__proto__` stays an own key, as JSON.parse makes it). */
function plain<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record));
}

function multiValueHeader(headers: Readonly<Record<string, string[]>>, name: string): string[] | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

// --- Routing --------------------------------------------------------------------------------------------

function compilePath(resourcePath: string): Segment[] {
  return resourcePath
    .split('/')
    .filter(Boolean)
    .map((part): Segment => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return { kind: 'literal', value: part };
      return param[1].endsWith('+')
        ? { kind: 'greedy', name: param[1].slice(0, -1) }
        : { kind: 'param', name: param[1] };
    });
}

/**
 * Finds the resource a path (under `/{service}`) names: with the stage segment removed when the path starts
 * with a route's stage, else as is. Literal segments win over `{param}` ones, position by position, as in
 * API Gateway; every method of the winning resource is returned.
 */
function matchRoute(routes: readonly CompiledRoute[], pathUnderService: string): Match | undefined {
  const parts = pathUnderService.split('/').filter(Boolean);
  const candidates: string[][] = [];
  const stages = new Set(routes.map((r) => r.route.stage));
  if (parts.length > 0 && stages.has(parts[0])) candidates.push(parts.slice(1));
  candidates.push(parts);
  for (const candidate of candidates) {
    let best: { compiled: CompiledRoute; params: Record<string, string>; score: string } | undefined;
    for (const compiled of routes) {
      const params = matchSegments(compiled.segments, candidate);
      if (!params) continue;
      const score = compiled.segments
        .map((s) => (s.kind === 'literal' ? '0' : s.kind === 'param' ? '1' : '2'))
        .join('');
      if (!best || score < best.score) best = { compiled, params, score };
    }
    if (best) {
      const { segments } = best.compiled;
      const same = routes.filter(
        (r) => r.segments.length === segments.length && sameShape(r.segments, segments),
      );
      return { compiled: same, pathParameters: best.params, path: `/${candidate.join('/')}` };
    }
  }
  return undefined;
}

function sameShape(a: readonly Segment[], b: readonly Segment[]): boolean {
  return a.every((s, i) => {
    const t = b[i];
    if (s.kind === 'literal') return t.kind === 'literal' && t.value === s.value;
    return s.kind === t.kind;
  });
}

function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === 'greedy') {
      if (i >= parts.length) return undefined;
      params[segment.name] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (segment.kind === 'literal' && segment.value !== part) return undefined;
    if (segment.kind === 'param') params[segment.name] = part;
  }
  return parts.length === segments.length ? params : undefined;
}

// --- Validation -----------------------------------------------------------------------------------------

function validateRequest(
  route: LocalRoute,
  request: IncomingRequest,
  pathParameters: Readonly<Record<string, string>>,
): Rejection | undefined {
  const missing: string[] = [];
  for (const parameter of route.requiredParameters) {
    const [, where, name] = /^method\.request\.(querystring|header|path)\.(.+)$/.exec(parameter) ?? [];
    if (!where || !name) continue;
    const present =
      where === 'querystring'
        ? Object.hasOwn(request.multiValueQuery, name)
        : where === 'header'
          ? headerValue(request.headers, name.toLowerCase()) !== undefined
          : Boolean(pathParameters[name]);
    if (!present) missing.push(name);
  }
  if (missing.length > 0) {
    return {
      types: ['BAD_REQUEST_PARAMETERS'],
      message: `Missing required request parameters: [${missing.join(', ')}]`,
      status: 400,
      reason: `missing ${missing.join(', ')}`,
    };
  }
  if (!route.validateBody || !route.requestSchema) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch {
    return {
      types: ['BAD_REQUEST_BODY'],
      message: 'Invalid request body',
      status: 400,
      reason: 'body is not JSON',
      validationErrorString: '[Invalid JSON in request body]',
    };
  }
  const errors = validateJsonSchema(route.requestSchema, body);
  if (errors.length === 0) return undefined;
  return {
    types: ['BAD_REQUEST_BODY'],
    message: 'Invalid request body',
    status: 400,
    reason: errors.join('; '),
    validationErrorString: `[${errors.join(', ')}]`,
  };
}

// --- Lambda proxy ---------------------------------------------------------------------------------------

function proxyEvent(
  route: LocalRoute,
  request: IncomingRequest,
  match: Match,
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
      accountId: CALLER_ACCOUNT,
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

/** Turns a handler's result into the HTTP reply, or says why it is not a Lambda proxy response. */
function proxyResult(result: unknown): HttpReply | string {
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

/**
 * Claims as API Gateway's Cognito authorizer passes them: every value a string, lists comma-separated,
 * `exp`/`iat` as Java-style dates (`Sun Nov 22 01:12:45 UTC 2026`).
 */
function claimsForEvent(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') out[name] = javaDate(value);
    else if (Array.isArray(value)) out[name] = value.map(String).join(',');
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}

function javaDate(epochSeconds: number): string {
  // toUTCString gives "Sun, 22 Nov 2026 01:12:45 GMT".
  const [weekday, day, month, year, time] = new Date(epochSeconds * 1000)
    .toUTCString()
    .replace(',', '')
    .split(' ');
  return `${weekday} ${month} ${day} ${time} UTC ${year}`;
}

// --- Gateway responses ----------------------------------------------------------------------------------

const INTERNAL_ERROR_BODY = JSON.stringify({ message: 'Internal server error' });

function templateContext(
  request: IncomingRequest,
  route: LocalRoute | undefined,
  message: string,
  responseType: string,
): Record<string, string> {
  return {
    requestId: request.requestId,
    extendedRequestId: request.requestId,
    httpMethod: request.method,
    path: request.calledPath,
    resourcePath: route?.resourcePath ?? '',
    stage: route?.stage ?? '',
    'identity.sourceIp': request.sourceIp,
    'error.message': message,
    'error.messageString': JSON.stringify(message),
    'error.responseType': responseType,
  };
}

/** Substitutes `$context.x` / `${context.x}` references (unknown ones render empty, as in API Gateway). */
function renderTemplate(template: string, context: Readonly<Record<string, string>>): string {
  return template.replace(
    /\$\{context\.([A-Za-z0-9_.]+)\}|\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z][A-Za-z0-9_]*)*)/g,
    (_all, braced: string | undefined, bare: string | undefined) => context[(braced ?? bare) as string] ?? '',
  );
}

/** Response headers of a gateway response: `'static'` values unquoted, `method.request.header.x` resolved. */
function responseHeaders(definition: LocalGatewayResponse, request: IncomingRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(definition.headers)) {
    const quoted = /^'(.*)'$/s.exec(raw);
    if (quoted) {
      out[name] = quoted[1];
      continue;
    }
    const fromHeader = /^method\.request\.header\.(.+)$/.exec(raw);
    if (fromHeader) {
      const value = headerValue(request.headers, fromHeader[1].toLowerCase());
      if (value !== undefined) out[name] = value;
      continue;
    }
    out[name] = raw;
  }
  return out;
}

// --- JWT and SigV4 --------------------------------------------------------------------------------------

interface Jwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown>;
  readonly signedPart: string;
  readonly signature: Buffer;
}

function parseJwt(token: string): Jwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (!isRecord(header) || !isRecord(payload)) return undefined;
    return {
      header,
      payload,
      signedPart: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

// --- Utilities ------------------------------------------------------------------------------------------

/** GETs a JSON document (no keep-alive, so no socket outlives the call). */
function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = get(url, { method: 'GET', agent: false, timeout: EMULATOR_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) {
          reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`GET ${url}: not JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An access-log line with control characters escaped (`\\n`, `\\x00`): decoded paths and validation
 * messages carry what the client sent, which must not forge or split log lines.
 */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
