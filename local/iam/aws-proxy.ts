import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessDecision, Authorizer, CallerPrincipal } from './authorizer';
import { accessDeniedMessage, denialLine } from './authorizer';
import type { AwsCall } from './aws-calls';
import { parseAwsCall } from './aws-calls';

/** Who signs with an access key: the function and the role its calls are authorized as. */
export interface Caller {
  readonly functionKey: string;
  readonly principal: CallerPrincipal;
}

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
  /** Denials seen, newest last (tests and `describe` read them). */
  readonly denials: AccessDecision[] = [];

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
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const { authorizer } = this.options;
    const call = parseAwsCall(req.headers, body, {
      region: authorizer.model.region,
      accountId: authorizer.model.accountId,
    });
    if (call) {
      const caller = this.options.callerOf(call.accessKeyId);
      if (!caller) {
        return this.refuse(
          res,
          call,
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        );
      }
      if (!call.needs) {
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
            this.denials.push(decision);
            this.options.log(`${denialLine(decision, authorizer.model)} [function ${caller.functionKey}]`);
            return this.refuse(res, call, 'AccessDeniedException', accessDeniedMessage(decision));
          }
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
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          protocol: this.target.protocol,
          hostname: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.target.host, 'content-length': String(body.length) },
          agent: this.agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
