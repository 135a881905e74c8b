import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { Authorizer, CallerPrincipal } from './authorizer';
import { accessDeniedMessage, denialLine } from './authorizer';
import type { AwsCall } from './aws-calls';
import { parseAwsCall } from './aws-calls';
import { verifySigV4 } from '../sigv4';
import { pipeline } from 'node:stream/promises';
import { closeServer, listenOnLoopback, readBody } from '../util';

/** Who signs with an access key: the function, the role its calls are authorized as, and its secrets. */
export interface Caller {
  readonly functionKey: string;
  readonly principal: CallerPrincipal;
  /** What signatures are checked with, and the session token the requests must carry (when there is one). */
  readonly credentials: { readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** How long an allowed call may take at the emulator (the SDK's own timeouts are usually shorter). */
const UPSTREAM_TIMEOUT_MS = 60_000;
/** Headers of one connection, not of the request (RFC 9110 §7.6.1): not forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/** Options of {@link AuthorizingProxy}. */
export interface AuthorizingProxyOptions {
  /** The emulator every allowed call is forwarded to. */
  readonly emulatorEndpoint: string;
  readonly authorizer: Authorizer;
  /** The caller an access key belongs to; undefined: the key is unknown. */
  readonly callerOf: (accessKeyId: string) => Caller | undefined;
  /** Denials and notes. */
  readonly log: (line: string) => void;
}

/**
 * Stands between the functions and the emulator, as IAM stands between a Lambda function and AWS: each function
 * signs with credentials of its own, the proxy finds the role they belong to, evaluates every action the call
 * needs (with the KMS actions on a customer-managed key of the target), answers a denial as the service does
 * (`AccessDeniedException`, or `AuthorizationError` for SNS) and logs which policy lacks the statement, and
 * forwards allowed calls unchanged. Operations it cannot map to resources are forwarded with a note, once each.
 */
export class AuthorizingProxy {
  private server?: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly target: URL;
  private readonly unmapped = new Set<string>();

  constructor(private readonly options: AuthorizingProxyOptions) {
    this.target = new URL(options.emulatorEndpoint);
  }

  /** Listens on a free loopback port; resolves to the endpoint functions use. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        this.options.log(`proxy error: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 60_000;
    this.server = server;
    return listenOnLoopback(server);
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const { authorizer } = this.options;
    const call = parseAwsCall(req.headers, body, {
      region: authorizer.model.region,
      accountId: authorizer.model.accountId,
    });
    if (!call) {
      // Functions sign every call (Lambda gives them credentials); an unsigned or presigned one is refused.
      return this.refuse(
        res,
        unsignedCall(req.headers),
        'MissingAuthenticationTokenException',
        'Missing Authentication Token',
      );
    }
    const invalidToken = 'The security token included in the request is invalid.';
    const caller = this.options.callerOf(call.accessKeyId);
    if (!caller) return this.refuse(res, call, 'UnrecognizedClientException', invalidToken);
    const token = req.headers['x-amz-security-token'];
    if (caller.credentials.sessionToken !== undefined && token !== caller.credentials.sessionToken) {
      return this.refuse(res, call, 'UnrecognizedClientException', invalidToken);
    }
    const failure = await verifySigV4(
      {
        method: req.method ?? 'POST',
        path: (req.url ?? '/').split('?')[0],
        query: queryOf(req.url ?? '/'),
        header: (name) => {
          const value = req.headers[name];
          return value === undefined ? undefined : Array.isArray(value) ? value : [value];
        },
        body,
      },
      call.signature!,
      caller.credentials.secretAccessKey,
    );
    if (failure) {
      this.options.log(
        `refused ${call.service}:${call.operation} [function ${caller.functionKey}]: ${failure}`,
      );
      return this.refuse(
        res,
        call,
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
          'Access Key and signing method. Consult the service documentation for details.',
      );
    }
    if (!call.needs || call.needs.length === 0) {
      const what = `${call.service}:${call.operation}`;
      if (!this.unmapped.has(what)) {
        this.unmapped.add(what);
        this.options.log(`note: ${what} is not authorized locally (no resource mapping); forwarded`);
      }
    } else {
      for (const need of call.needs) {
        const decision = await authorizer.authorizeWithKey(
          { principal: caller.principal, action: need.action, resource: need.resource },
          need.kmsActions,
        );
        if (!decision.allowed) {
          this.options.log(`${denialLine(decision, authorizer.model)} [function ${caller.functionKey}]`);
          return this.refuse(res, call, 'AccessDeniedException', accessDeniedMessage(decision));
        }
      }
    }
    await this.forward(req, body, res);
  }

  /** An error answer in the call's protocol, as AWS sends it. */
  private refuse(res: ServerResponse, call: AwsCall, code: string, message: string): void {
    const requestId = randomUUID();
    if (call.protocol === 'query') {
      const queryCode =
        call.service === 'sns'
          ? 'AuthorizationError'
          : code === 'AccessDeniedException'
            ? 'AccessDenied'
            : code;
      const xml =
        `<ErrorResponse><Error><Type>Sender</Type><Code>${queryCode}</Code><Message>${escapeXml(message)}</Message>` +
        `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      res.writeHead(403, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(xml);
      return;
    }
    const headers: Record<string, string> = {
      'content-type':
        call.service === 'dynamodb' || call.service === 'sqs'
          ? 'application/x-amz-json-1.0'
          : 'application/x-amz-json-1.1',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': code,
    };
    if (call.service === 'sqs')
      headers['x-amzn-query-error'] = `${code === 'AccessDeniedException' ? 'AccessDenied' : code};Sender`;
    res
      .writeHead(400, headers)
      .end(JSON.stringify({ __type: `com.amazon.coral.service#${code}`, message, Message: message }));
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers.host = this.target.host;
    headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          protocol: this.target.protocol,
          hostname: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.agent,
          timeout: UPSTREAM_TIMEOUT_MS,
        },
        (answer) => {
          const answerHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders[name] = value;
          }
          res.writeHead(answer.statusCode ?? 502, answerHeaders);
          // pipeline destroys both sides when either fails or the function's connection goes away.
          pipeline(answer, res).then(resolve, reject);
        },
      );
      upstream.on('timeout', () =>
        upstream.destroy(new Error(`the emulator did not answer within ${UPSTREAM_TIMEOUT_MS} ms`)),
      );
      upstream.on('error', reject);
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  }
}

/** What a refusal of a request without a SigV4 header needs to know of its protocol. */
function unsignedCall(headers: IncomingMessage['headers']): AwsCall {
  const target = headers['x-amz-target'];
  const json = typeof target === 'string';
  const service = json && target.startsWith('DynamoDB') ? 'dynamodb' : 'unknown';
  return { service, operation: '', accessKeyId: '', protocol: json ? 'json' : 'query' };
}

/** The query of a request URL, multi-valued, as the signer takes it. */
function queryOf(url: string): Record<string, string[]> {
  const query = Object.create(null) as Record<string, string[]>;
  const at = url.indexOf('?');
  if (at < 0) return query;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) (query[name] ??= []).push(value);
  return query;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
