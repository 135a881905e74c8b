/**
 * Errors with a stable machine-readable code and an HTTP status. Domain code throws these; the HTTP
 * middleware turns them into `{ error: { code, message } }` responses. Anything else becomes a 500
 * INTERNAL_ERROR without details (the stack trace goes to the log, never to the client).
 */
export class AppError extends Error {
  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly details?: unknown,
    /** Extra response headers, e.g. Retry-After. */
    public readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(400, 'VALIDATION_FAILED', message, details);
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super(400, 'MALFORMED_JSON', 'The request body is not valid JSON');
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super(401, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this') {
    super(403, 'FORBIDDEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

/** A dependency is down or its circuit is open: the request may be retried later. */
export class DependencyUnavailableError extends AppError {
  constructor(dependency: string, retryAfterSeconds: number) {
    super(503, 'DEPENDENCY_UNAVAILABLE', `The ${dependency} service is unavailable; retry later`, undefined, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}
