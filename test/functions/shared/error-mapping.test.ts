import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  AppError,
  ConflictError,
  DependencyUnavailableError,
  ErrorKind,
  ForbiddenError,
  MalformedJsonError,
  NotFoundError,
  UnauthorizedError,
  UnprocessableError,
  ValidationError,
} from '../../../functions/shared/errors';
import {
  HTTP_STATUS_BY_ERROR_KIND,
  httpHeadersOf,
  httpRoute,
  httpStatusOf,
} from '../../../functions/shared/http';
import { apiEvent, lambdaContext } from '../api-event';

/** A route that throws whatever the test hands it. */
function throwing(error: unknown) {
  return httpRoute({ authenticated: false }, async () => {
    throw error;
  });
}

async function answer(error: unknown): Promise<APIGatewayProxyResult> {
  return (await throwing(error)(apiEvent({ path: '/things' }), lambdaContext)) as APIGatewayProxyResult;
}

const JSON_HEADERS = { 'content-type': 'application/json', 'x-correlation-id': 'req-123' };

describe('the error-to-HTTP mapping', () => {
  it('gives every error kind its status', () => {
    expect(HTTP_STATUS_BY_ERROR_KIND).toEqual({
      INVALID_INPUT: 400,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      UNPROCESSABLE: 422,
      UNAVAILABLE: 503,
    });
    expect(Object.keys(HTTP_STATUS_BY_ERROR_KIND).sort()).toEqual(Object.values(ErrorKind).sort());
  });

  it.each([
    [
      'ValidationError',
      new ValidationError('The request body is invalid', [{ path: 'a', message: 'm' }]),
      400,
    ],
    ['MalformedJsonError', new MalformedJsonError(), 400],
    ['UnauthorizedError', new UnauthorizedError(), 401],
    ['ForbiddenError', new ForbiddenError(), 403],
    ['NotFoundError', new NotFoundError('THING_NOT_FOUND', 'No thing t-1'), 404],
    ['ConflictError', new ConflictError('THING_EXISTS', 'Thing t-1 exists'), 409],
    ['UnprocessableError', new UnprocessableError('THING_FROZEN', 'Thing t-1 is frozen'), 422],
    ['DependencyUnavailableError', new DependencyUnavailableError('users', 7), 503],
  ])('maps a %s to %d', (_name, error, status) => {
    expect(error).not.toHaveProperty('statusCode');
    expect(error).not.toHaveProperty('headers');
    expect(httpStatusOf(error)).toBe(status);
  });

  it('maps an AppError built directly from its kind', () => {
    expect(httpStatusOf(new AppError(ErrorKind.CONFLICT, 'SEAT_TAKEN', 'Seat 12A is taken'))).toBe(409);
  });

  it('maps anything that is not an AppError to 500', () => {
    expect(httpStatusOf(new Error('boom'))).toBe(500);
    expect(httpStatusOf('a string')).toBe(500);
    expect(httpStatusOf(undefined)).toBe(500);
    expect(httpStatusOf(new AppError('TEAPOT' as ErrorKind, 'X', 'unknown kind'))).toBe(500);
  });

  it('adds retry-after only when the error carries retryAfterSeconds', () => {
    expect(httpHeadersOf(new DependencyUnavailableError('users', 7))).toEqual({ 'retry-after': '7' });
    expect(httpHeadersOf(new NotFoundError('THING_NOT_FOUND', 'No thing'))).toEqual({});
    expect(httpHeadersOf(new Error('boom'))).toEqual({});
  });
});

describe('httpRoute error responses', () => {
  it('answers a DependencyUnavailableError with 503, retry-after and the error body', async () => {
    const result = await answer(new DependencyUnavailableError('users', 7));
    expect(result).toEqual({
      statusCode: 503,
      headers: { ...JSON_HEADERS, 'retry-after': '7' },
      body: JSON.stringify({
        error: {
          code: 'DEPENDENCY_UNAVAILABLE',
          message: 'The users service is unavailable; retry later',
          requestId: 'req-123',
        },
      }),
    });
  });

  it('answers a ValidationError with 400 and its details', async () => {
    const result = await answer(
      new ValidationError('The request body is invalid', [{ path: 'a', message: 'm' }]),
    );
    expect(result).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({
        error: {
          code: 'VALIDATION_FAILED',
          message: 'The request body is invalid',
          requestId: 'req-123',
          details: [{ path: 'a', message: 'm' }],
        },
      }),
    });
  });

  it.each([
    ['UnauthorizedError', new UnauthorizedError(), 401],
    ['ForbiddenError', new ForbiddenError(), 403],
    ['NotFoundError', new NotFoundError('THING_NOT_FOUND', 'No thing t-1'), 404],
    ['ConflictError', new ConflictError('THING_EXISTS', 'Thing t-1 exists'), 409],
    ['UnprocessableError', new UnprocessableError('THING_FROZEN', 'Thing t-1 is frozen'), 422],
  ])('answers a %s with %d and no extra headers', async (_name, error, status) => {
    const result = await answer(error);
    expect(result).toEqual({
      statusCode: status,
      headers: JSON_HEADERS,
      body: JSON.stringify({ error: { code: error.code, message: error.message, requestId: 'req-123' } }),
    });
  });

  it.each([
    ['an Error', new Error('secret detail at /var/task/index.js:1')],
    ['a thrown string', 'secret detail'],
    ['an AppError of an unknown kind', new AppError('TEAPOT' as ErrorKind, 'SECRET', 'secret detail')],
  ])('answers %s with 500 INTERNAL_ERROR and no stack or message in the body', async (_what, error) => {
    const result = await answer(error);
    expect(result).toEqual({
      statusCode: 500,
      headers: JSON_HEADERS,
      body: JSON.stringify({
        error: {
          code: 'INTERNAL_ERROR',
          message: 'Something went wrong; quote the request id when reporting it',
          requestId: 'req-123',
        },
      }),
    });
    expect(result.body).not.toContain('secret');
    expect(result.body).not.toContain('at ');
  });
});
