/**
 * What the gateway answers itself: the services' gateway responses (AWS::ApiGateway::GatewayResponse) rendered
 * for every request it rejects, with their `$context` templates and header mappings, and API Gateway's default
 * bodies when a service defines none.
 */
import type { LocalGatewayResponse, LocalRoute } from '../model';
import type { IncomingRequest } from './request';
import { headerValue } from './request';

/** A gateway-generated error: which response type renders it, and the message it carries. */
export interface Rejection {
  /** Response types to look for in order (the first one the service defines wins). */
  readonly types: readonly string[];
  /** `$context.error.message`. */
  readonly message: string;
  /** Status when the service defines none of the types and no DEFAULT_4XX/5XX status. */
  readonly status: number;
  /** Detail for the access log only (API Gateway does not reveal it either). */
  readonly reason?: string;
  /** `$context.error.validationErrorString` (request validation failures). */
  readonly validationErrorString?: string;
}

/** An HTTP answer of the gateway. */
export interface HttpReply {
  /** HTTP status. */
  readonly status: number;
  /** Response headers (a list for a repeated header). */
  readonly headers: Record<string, string | string[]>;
  /** Response body. */
  readonly body: Buffer | string;
  /** Route response type or `integration` / `handler`, for the log. */
  readonly note?: string;
  /** Answered before the body was read: close the connection after the answer. */
  readonly close?: boolean;
}

/** API Gateway's answer when the gateway itself fails. */
export const INTERNAL_ERROR_REPLY: HttpReply = {
  status: 500,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ message: 'Internal server error' }),
};

/** The gateway responses of every service, by service, rendering rejections. */
export class GatewayResponses {
  private readonly byService = new Map<string, LocalGatewayResponse[]>();
  /** Responses used for a request no service owns (the alphabetically first service's). */
  private readonly fallback: readonly LocalGatewayResponse[];
  private readonly notFoundTemplate?: LocalGatewayResponse;

  /**
   * @param responses - every service's gateway responses
   * @param services - the services the gateway serves
   */
  constructor(
    responses: readonly LocalGatewayResponse[],
    private readonly services: ReadonlySet<string>,
  ) {
    for (const response of responses) {
      const list = this.byService.get(response.service) ?? [];
      list.push(response);
      this.byService.set(response.service, list);
    }
    const first = responses.map((r) => r.service).sort()[0];
    this.fallback = first === undefined ? [] : (this.byService.get(first) ?? []);
    this.notFoundTemplate = responses.find((r) => r.type === 'MISSING_AUTHENTICATION_TOKEN');
  }

  /**
   * Renders the service's gateway response for a rejection (API Gateway's default body when it has none).
   * @param service - the service the request is for ('' when unknown)
   * @param request - the request rejected
   * @param route - the route it matched, if any
   * @param rejection - why it is rejected
   */
  reject(
    service: string,
    request: IncomingRequest,
    route: LocalRoute | undefined,
    rejection: Rejection,
  ): HttpReply {
    let responses: readonly LocalGatewayResponse[] = this.byService.get(service) ?? [];
    // An unknown service (or none, for a request Node could not parse): any service's responses, so every
    // error the gateway generates has the same shape.
    if (responses.length === 0 && !this.services.has(service)) responses = this.fallback;
    const specific = rejection.types.map((t) => responses.find((r) => r.type === t)).find((r) => r);
    const fallbackType = rejection.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
    const fallback = responses.find((r) => r.type === fallbackType);
    const definition = specific ?? fallback;
    const status = specific
      ? (specific.statusCode ?? rejection.status)
      : (fallback?.statusCode ?? rejection.status);
    const type = specific?.type ?? rejection.types[0] ?? fallbackType;
    const note = `${type}${rejection.reason ? `: ${rejection.reason}` : ''}`;
    if (definition?.template !== undefined) {
      const context = {
        ...templateContext(request, route, rejection.message, type),
        'error.validationErrorString': rejection.validationErrorString ?? '',
      };
      return {
        status,
        headers: { 'Content-Type': 'application/json', ...responseHeaders(definition, request) },
        body: renderTemplate(definition.template, context),
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

  /**
   * The 404 of a path whose first segment is no service, listing the services (rendered with any service's
   * route-not-found template, so that every 404 has the same shape).
   * @param service - the unknown service
   * @param request - the request
   */
  unknownService(service: string, request: IncomingRequest): HttpReply {
    const known = [...this.services].sort();
    const message = `No service "${service}" here; services: ${known.join(', ') || 'none'}`;
    const template = this.notFoundTemplate;
    if (template?.template) {
      const context = templateContext(request, undefined, message, 'MISSING_AUTHENTICATION_TOKEN');
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
}

/**
 * Substitutes `$context.x` / `${context.x}` references (unknown ones render empty, as in API Gateway).
 * @param template - a gateway response's application/json template
 * @param context - the values by name without `context.` (e.g. `error.message`)
 */
export function renderTemplate(template: string, context: Readonly<Record<string, string>>): string {
  return template.replace(
    /\$\{context\.([A-Za-z0-9_.]+)\}|\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z][A-Za-z0-9_]*)*)/g,
    (_all, braced: string | undefined, bare: string | undefined) => context[(braced ?? bare) as string] ?? '',
  );
}

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
