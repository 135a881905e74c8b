import type { IncomingHttpHeaders } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, QueryParameterBag } from '@smithy/types';
import { HttpMethod } from '../http-method';
import { logger } from '../powertools';
import { traceRemoteCall } from '../tracing/remote-call';
import { CircuitBreaker } from './circuit-breaker';
import { withRetry } from './retry';
import { Sha256 } from './sha256';
import type { RetryOptions } from './retry';

/**
 * A failure of the dependency itself: a network error, a timeout, HTTP 429 or a 5xx answer. These are
 * what the client retries and what counts towards opening its circuit breaker.
 */
export class DependencyError extends Error {
  /** Name of the dependency (the client's `name`). */
  public readonly dependency: string;
  /** HTTP status of the answer, when there was one. */
  public readonly status?: number;
  /** Whether another attempt may succeed. */
  public readonly retryable: boolean;

  constructor(
    dependency: string,
    message: string,
    options: { readonly status?: number; readonly retryable: boolean; readonly cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.dependency = dependency;
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

// The methods a ServiceClient sends; re-exported so `cdk-microservices/kit/resilience` keeps exporting it.
export { HttpMethod };

/** Options of a {@link ServiceClient}. */
export interface ServiceClientOptions {
  /** Name of the dependency, used in errors, logs and the default breaker (e.g. `users`). */
  readonly name: string;
  /**
   * Base URL of the API, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1/`; a trailing slash may
   * or may not be present. No query string or fragment.
   */
  readonly baseUrl: string;
  /** Region the API is in, for the SigV4 credential scope (e.g. `eu-west-1`). */
  readonly region: string;
  /**
   * Timeout of each attempt (connect, headers and body), in milliseconds.
   * @default 2000
   */
  readonly timeoutMs?: number;
  /**
   * Retry policy of each call. Only {@link DependencyError}s are retried, and for POST and PATCH only a
   * 429 (which says the request was not processed); an `isRetryable` given here can narrow that further.
   * @default - withRetry's defaults: 3 attempts, 100 ms base delay, 1000 ms cap, full jitter
   */
  readonly retry?: RetryOptions;
  /**
   * Circuit breaker around each call (all its retries count as one call). Share one breaker per
   * dependency per Lambda execution environment.
   * @default - a breaker named after the client, with the breaker's defaults, logging its transitions
   */
  readonly breaker?: CircuitBreaker;
  /**
   * Credentials the requests are signed with.
   * @default - `fromEnv()`: the Lambda function's role, from its environment
   */
  readonly credentials?: AwsCredentialIdentityProvider;
  /**
   * The connection pool requests go through (an `https.Agent` for an https `baseUrl`, an `http.Agent`
   * for http).
   * @default - a keep-alive pool shared by every ServiceClient of the execution environment, which closes
   *   connections idle for 4 s
   */
  readonly agent?: http.Agent;
  /**
   * SigV4 signing name of the service.
   * @default 'execute-api'
   */
  readonly signingService?: string;
}

/** An answer of the dependency that is not a failure of it (2xx, 3xx and 4xx other than 429). */
export interface ServiceResponse {
  /** HTTP status. */
  readonly status: number;
  /** The parsed JSON body, `undefined` for an empty body, or the text when it is not JSON. */
  readonly body: unknown;
  /** Response headers, names in lower case. */
  readonly headers: Record<string, string>;
}

/** Per-call options of {@link ServiceClient.request}. */
export interface ServiceRequestOptions {
  /**
   * Extra request headers (e.g. the correlation id); they are signed too. A `user-agent` given here
   * replaces the client's own (`cdk-microservices/<version> <name>`).
   */
  readonly headers?: Record<string, string>;
  /** A JSON-serialisable body, sent as `application/json`. */
  readonly body?: unknown;
}

const DEFAULT_TIMEOUT_MS = 2000;
/**
 * Idle keep-alive connections are closed after this long: well before servers and load balancers drop
 * them (API Gateway and ALB keep idle connections for about a minute), so a request is never sent on a
 * connection the other end has already closed.
 */
const IDLE_CONNECTION_MS = 4000;
/** The default pools, shared by every client: one TLS handshake per connection, not per call. */
const DEFAULT_AGENTS = {
  'http:': new http.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: IDLE_CONNECTION_MS }),
};
const DEFAULT_SIGNING_SERVICE = 'execute-api';
/** Version of this package, sent in the User-Agent (a test keeps it equal to package.json's). */
export const LIBRARY_VERSION = '0.1.0';
/**
 * Headers the signer includes although SigV4 signers leave them out by default. The User-Agent is signed
 * so that the one the WAF and the access logs see is the one this client sent: the APIs are REGIONAL
 * (no CloudFront in front rewriting it), and API Gateway verifies whatever `SignedHeaders` lists.
 */
const SIGNED_DEFAULT_UNSIGNABLE_HEADERS: Set<string> = new Set(['user-agent']);
/** Methods that may be sent again after an ambiguous failure (timeout, 5xx) without duplicating effects. */
const IDEMPOTENT_METHODS: ReadonlySet<HttpMethod> = new Set([
  HttpMethod.GET,
  HttpMethod.HEAD,
  HttpMethod.PUT,
  HttpMethod.DELETE,
]);

/**
 * HTTP client for synchronous calls to another service's IAM-authorised API Gateway REST API: every
 * attempt is SigV4-signed afresh and bounded by a timeout, failures of the dependency (network errors,
 * timeouts, 429, 5xx) are retried with jittered backoff, and the whole retried call runs inside a circuit
 * breaker, so a call that fails after all its retries counts as one breaker failure and an open breaker
 * rejects calls with `CircuitOpenError` without sending anything.
 *
 * Create it once at module scope so that its breaker lives as long as the execution environment.
 *
 * @example
 * const users = new ServiceClient({ name: 'users', baseUrl: requiredEnv('USERS_API_URL'), region: 'eu-west-1' });
 * const { status, body } = await users.get(`profiles/${encodeURIComponent(id)}`);
 */
export class ServiceClient {
  /** Name of the dependency. */
  public readonly name: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly circuitBreaker: CircuitBreaker;
  private readonly signer: SignatureV4;
  private readonly agent: http.Agent;
  private readonly userAgent: string;

  /** @throws Error naming the option when an option is invalid. */
  constructor(options: ServiceClientOptions) {
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new Error(`ServiceClient name must be a non-empty string, got ${JSON.stringify(options.name)}`);
    }
    if (typeof options.region !== 'string' || options.region.trim() === '') {
      throw new Error(
        `ServiceClient region must be a non-empty string, got ${JSON.stringify(options.region)}`,
      );
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`ServiceClient timeoutMs must be a finite number > 0, got ${timeoutMs}`);
    }
    this.name = options.name;
    // The WAF's AWSManagedRulesCommonRuleSet (NoUserAgent_HEADER) blocks requests without a User-Agent.
    this.userAgent = `cdk-microservices/${LIBRARY_VERSION} ${options.name.trim().replace(/[^\w.!#$%&'*+^`|~-]+/g, '-')}`;
    this.base = parseBaseUrl(options.baseUrl);
    this.timeoutMs = timeoutMs;
    this.retry = options.retry ?? {};
    this.circuitBreaker =
      options.breaker ??
      new CircuitBreaker({
        name: options.name,
        onStateChange: (from, to) =>
          logger.warn('Circuit breaker changed state', { dependency: options.name, from, to }),
      });
    this.signer = new SignatureV4({
      service: options.signingService ?? DEFAULT_SIGNING_SERVICE,
      region: options.region,
      credentials: options.credentials ?? fromEnv(),
      sha256: Sha256,
    });
    const agentProtocol = (options.agent as { protocol?: unknown } | undefined)?.protocol;
    if (options.agent !== undefined && agentProtocol !== this.base.protocol) {
      throw new Error(
        `ServiceClient agent must be an ${this.base.protocol === 'https:' ? 'https' : 'http'}.Agent for ` +
          `${this.base.origin}, got one for ${String(agentProtocol)}`,
      );
    }
    this.agent = options.agent ?? DEFAULT_AGENTS[this.base.protocol as keyof typeof DEFAULT_AGENTS];
  }

  /** The circuit breaker the calls run in. */
  get breaker(): CircuitBreaker {
    return this.circuitBreaker;
  }

  /**
   * Sends a signed GET.
   *
   * @param path - path relative to `baseUrl`, with segments already URI-encoded, optionally with a query
   *   string (e.g. `profiles/${encodeURIComponent(id)}?fields=email`)
   * @returns the answer for 2xx, 3xx and 4xx other than 429 (a 404 is an answer, not an error)
   * @throws {@link DependencyError} when the dependency failed on every attempt; `CircuitOpenError`
   *   when the breaker is open
   */
  async get(
    path: string,
    options: { readonly headers?: Record<string, string> } = {},
  ): Promise<ServiceResponse> {
    return this.request(HttpMethod.GET, path, options);
  }

  /**
   * Sends a signed request with retries, inside the circuit breaker. See {@link ServiceClient.get}.
   *
   * @throws {@link DependencyError} when the dependency failed on every attempt; `CircuitOpenError`
   *   when the breaker is open; an Error when `path` leaves the base URL's path
   */
  async request(
    method: HttpMethod,
    path: string,
    options: ServiceRequestOptions = {},
  ): Promise<ServiceResponse> {
    const url = this.urlFor(path);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;

    const callerRetryable = this.retry.isRetryable ?? (() => true);
    const retry: RetryOptions = {
      ...this.retry,
      isRetryable: (error) =>
        error instanceof DependencyError &&
        error.retryable &&
        (IDEMPOTENT_METHODS.has(method) || error.status === 429) &&
        callerRetryable(error),
      onRetry: (attempt, delayMs, error) => {
        logger.warn('Retrying a failed call', {
          dependency: this.name,
          method,
          path: url.pathname,
          attempt,
          delayMs: Math.round(delayMs),
          error: error instanceof Error ? error.message : String(error),
        });
        this.retry.onRetry?.(attempt, delayMs, error);
      },
    };
    return this.circuitBreaker.execute(
      () => withRetry(() => this.attempt(method, url, headers, body), retry),
      (error) => error instanceof DependencyError,
    );
  }

  /** One signed attempt, bounded by the timeout. */
  private async attempt(
    method: HttpMethod,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<ServiceResponse> {
    const query = queryBag(url.searchParams);
    // Errors from here (e.g. missing credentials) are not failures of the dependency: not retried, not counted.
    const signed = await this.signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        body,
      },
      { signableHeaders: SIGNED_DEFAULT_UNSIGNABLE_HEADERS },
    );
    // node:http sets the host header itself, from the same URL that was signed.
    const sendHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers))
      if (name !== 'host') sendHeaders[name] = value;
    if (body !== undefined) sendHeaders['content-length'] = String(Buffer.byteLength(body));
    // Send the query exactly as it was signed (RFC 3986 encoded), so the server's canonical form matches.
    const target = new URL(`${url.origin}${url.pathname}${queryString(query)}`);

    // One subsegment per attempt, as each attempt is a request of its own with its own answer. The trace
    // header is added after signing, so the signature never depends on it (SigV4 signers treat it as
    // unsignable anyway). The URL is recorded without its query, which may carry personal data.
    // The header name is spelt as the X-Ray SDK spells it, which tells its global node:http instrumentation
    // that this request is traced already (it would otherwise add a second, host-named subsegment).
    const trace = traceRemoteCall(this.name, method, `${url.origin}${url.pathname}`);
    if (trace) {
      for (const name of Object.keys(sendHeaders))
        if (name.toLowerCase() === 'x-amzn-trace-id') delete sendHeaders[name];
      sendHeaders['X-Amzn-Trace-Id'] = trace.header;
    }
    let answer: Answer;
    try {
      answer = await exchange(target, method, sendHeaders, body, this.agent, this.timeoutMs);
      trace?.answered(answer.status, Buffer.byteLength(answer.text));
    } catch (error) {
      trace?.failed(error);
      throw new DependencyError(
        this.name,
        `${this.name}: ${method} ${url.pathname} ${failureOf(error, this.timeoutMs)}`,
        {
          retryable: true,
          cause: error,
        },
      );
    } finally {
      trace?.end();
    }
    const { status } = answer;
    if (status === 429 || status >= 500) {
      throw new DependencyError(this.name, `${this.name}: ${method} ${url.pathname} answered ${status}`, {
        status,
        retryable: true,
      });
    }
    return { status, body: parseBody(answer.text), headers: answer.headers };
  }

  /** Joins the base URL and `path` with exactly one slash, refusing paths that leave the base path. */
  private urlFor(path: string): URL {
    const basePath = this.base.pathname.replace(/\/+$/, '');
    const url = new URL(`${this.base.origin}${basePath}/${path.replace(/^\/+/, '')}`);
    if (url.origin !== this.base.origin || !`${url.pathname}/`.startsWith(`${basePath}/`)) {
      throw new Error(`ServiceClient ${this.name}: path ${JSON.stringify(path)} leaves ${this.base.href}`);
    }
    return url;
  }
}

/** What came back for one request. */
interface Answer {
  readonly status: number;
  /** Names in lower case; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly text: string;
}

/** How a request on a kept-alive connection that the server has already closed fails. */
const STALE_CONNECTION_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);
/** Stale pooled connections a request is sent past before the failure counts (each failure closes one). */
const STALE_CONNECTION_RESENDS = 3;

/**
 * Sends one request through `agent` and reads the whole answer (redirects are answers, not followed).
 * A request that fails on a reused connection before any answer arrived is sent again at once: that is how a
 * kept-alive connection shows that the server closed it while it sat idle (for instance while Lambda froze
 * the execution environment), and a fresh connection is then taken. Rejects with the socket's error, or with
 * a `TimeoutError` when all of it (connecting, sending, reading the whole answer) takes longer than
 * `timeoutMs` (the request is then destroyed, and its connection with it).
 */
async function exchange(
  target: URL,
  method: HttpMethod,
  headers: Record<string, string>,
  body: string | undefined,
  agent: http.Agent,
  timeoutMs: number,
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (let resends = 0; ; resends++) {
    const sent = await sendOnce(target, method, headers, body, agent, deadline - Date.now(), timeoutMs);
    if ('answer' in sent) return sent.answer;
    if (!sent.stale || resends >= STALE_CONNECTION_RESENDS) throw sent.error;
  }
}

/** One request on one connection: the answer, or the error and whether a stale pooled connection caused it. */
function sendOnce(
  target: URL,
  method: HttpMethod,
  headers: Record<string, string>,
  body: string | undefined,
  agent: http.Agent,
  remainingMs: number,
  timeoutMs: number,
): Promise<{ readonly answer: Answer } | { readonly error: Error; readonly stale: boolean }> {
  return new Promise((resolve) => {
    const timedOut = () => {
      const error = new Error(`timed out after ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      return error;
    };
    if (remainingMs <= 0) {
      resolve({ error: timedOut(), stale: false });
      return;
    }
    let answered = false;
    const send = target.protocol === 'https:' ? https.request : http.request;
    const request = send(target, { method, headers, agent }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          answer: {
            status: response.statusCode ?? 0,
            headers: headersOf(response.headers),
            text: Buffer.concat(chunks).toString('utf8'),
          },
        });
      });
    });
    const timer = setTimeout(() => request.destroy(timedOut()), remainingMs);
    function fail(error: Error) {
      clearTimeout(timer);
      const code = (error as NodeJS.ErrnoException).code;
      const stale =
        !answered && request.reusedSocket && code !== undefined && STALE_CONNECTION_CODES.has(code);
      resolve({ error, stale });
    }
    request.on('error', fail);
    request.end(body);
  });
}

function headersOf(incoming: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`ServiceClient baseUrl must be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`ServiceClient baseUrl must be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new Error(
      `ServiceClient baseUrl must not have a query, fragment or credentials, got ${JSON.stringify(baseUrl)}`,
    );
  }
  return url;
}

function queryBag(params: URLSearchParams): QueryParameterBag {
  const bag: QueryParameterBag = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    bag[key] = values.length === 1 ? values[0] : values;
  }
  return bag;
}

function queryString(bag: QueryParameterBag): string {
  const pairs: string[] = [];
  for (const key of Object.keys(bag).sort()) {
    const value = bag[key];
    const values = value === null ? [''] : Array.isArray(value) ? [...value].sort() : [value];
    for (const v of values) pairs.push(`${rfc3986(key)}=${rfc3986(v)}`);
  }
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

/** URI encoding as SigV4 canonicalises it: encodeURIComponent plus `!'()*`. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Describes a failed exchange: a timeout, or the socket's error with its code. */
function failureOf(error: unknown, timeoutMs: number): string {
  const { name, message, code } = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
  if (name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const text = typeof message === 'string' ? message : String(error);
  return `failed: ${text}${typeof code === 'string' && !text.includes(code) ? ` (${code})` : ''}`;
}
