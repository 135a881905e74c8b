/**
 * API Gateway's request validation: required request parameters (query string, header, path) and, when the
 * method's request validator validates the body, the JSON body against the method's model (draft-4 JSON
 * Schema, compiled once per route when the gateway is built).
 */
import type { JsonSchemaValidator } from '../json-schema';
import { compileJsonSchema } from '../json-schema';
import type { LocalRoute } from '../model';
import type { IncomingRequest } from './request';
import { headerValue } from './request';
import type { Rejection } from './responses';

/** A required request parameter, parsed once. */
interface RequiredParameter {
  readonly where: 'querystring' | 'header' | 'path';
  readonly name: string;
  /** The header name in lower case (headers only). */
  readonly lowerName: string;
}

/** The request validation of one route: its required parameters and its compiled body model. */
export class RequestValidator {
  private readonly required: readonly RequiredParameter[];
  private readonly body?: JsonSchemaValidator;

  /**
   * Compiles the route's model (when its body is validated).
   * @param route - the route
   * @throws JsonSchemaError when the model is not a draft-4 schema Ajv can compile
   */
  constructor(route: LocalRoute) {
    this.required = route.requiredParameters.flatMap((parameter): RequiredParameter[] => {
      const [, where, name] = /^method\.request\.(querystring|header|path)\.(.+)$/.exec(parameter) ?? [];
      if (!where || !name) return [];
      return [{ where: where as RequiredParameter['where'], name, lowerName: name.toLowerCase() }];
    });
    if (route.validateBody && route.requestSchema) this.body = compileJsonSchema(route.requestSchema);
  }

  /**
   * Validates a request as API Gateway does before invoking the integration.
   * @param request - the request (its body read)
   * @param pathParameters - the path parameters the route matched
   * @returns the BAD_REQUEST_PARAMETERS or BAD_REQUEST_BODY rejection, or undefined when the request is valid
   */
  validate(
    request: IncomingRequest,
    pathParameters: Readonly<Record<string, string>>,
  ): Rejection | undefined {
    const missing: string[] = [];
    for (const { where, name, lowerName } of this.required) {
      const present =
        where === 'querystring'
          ? Object.hasOwn(request.multiValueQuery, name)
          : where === 'header'
            ? headerValue(request.headers, lowerName) !== undefined
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
    if (!this.body) return undefined;
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
    const errors = this.body(body);
    if (errors.length === 0) return undefined;
    return {
      types: ['BAD_REQUEST_BODY'],
      message: 'Invalid request body',
      status: 400,
      reason: errors.join('; '),
      validationErrorString: `[${errors.join(', ')}]`,
    };
  }
}
