/**
 * The HTTP methods of the library, declared once: routes of a `Microservice`, grants to call them and the
 * requests a `ServiceClient` sends all use this enum. This file imports nothing, so the construct library can
 * use it without loading handler code.
 */
export enum HttpMethod {
  GET = 'GET',
  HEAD = 'HEAD',
  POST = 'POST',
  PUT = 'PUT',
  PATCH = 'PATCH',
  DELETE = 'DELETE',
}
