/**
 * Errors with a stable machine-readable code and a transport-free {@link ErrorKind}. Domain code throws
 * these without knowing about HTTP; the kit's HTTP layer (`httpRoute`, see {@link httpStatusOf} in
 * `cdk-microservices/kit/http`) turns them into `{ error: { code, message } }` responses with the status of
 * their kind. Anything else becomes a 500 INTERNAL_ERROR without details (the stack trace goes to the log,
 * never to the client).
 */

/** What went wrong, independent of the transport that reports it. */
export enum ErrorKind {
  /** The input is malformed or fails validation (HTTP 400). */
  INVALID_INPUT = 'INVALID_INPUT',
  /** The caller is not authenticated (HTTP 401). */
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  /** The caller is authenticated but not allowed to do this (HTTP 403). */
  FORBIDDEN = 'FORBIDDEN',
  /** The thing asked for does not exist (HTTP 404). */
  NOT_FOUND = 'NOT_FOUND',
  /** The request conflicts with the current state, e.g. a duplicate or a stale version (HTTP 409). */
  CONFLICT = 'CONFLICT',
  /** The input is well-formed but breaks a business rule (HTTP 422). */
  UNPROCESSABLE = 'UNPROCESSABLE',
  /** A dependency is unavailable; the request may be retried later (HTTP 503). */
  UNAVAILABLE = 'UNAVAILABLE',
}

/** Optional parts of an {@link AppError}. */
export interface AppErrorOptions {
  /**
   * Machine-readable details for the caller, e.g. the validation issues.
   *
   * @default - no details
   */
  readonly details?: unknown;
  /**
   * For {@link ErrorKind.UNAVAILABLE}: seconds after which the caller may retry.
   *
   * @default - no retry hint
   */
  readonly retryAfterSeconds?: number;
}

/**
 * An error with a stable machine-readable code and an {@link ErrorKind}; no HTTP status or headers (the
 * transport derives them from the kind, see `httpStatusOf` in `cdk-microservices/kit/http`).
 */
export class AppError extends Error {
  /** Machine-readable details for the caller, if any. */
  public readonly details?: unknown;
  /** Seconds after which the caller may retry, for {@link ErrorKind.UNAVAILABLE}. */
  public readonly retryAfterSeconds?: number;

  constructor(
    /** What went wrong; the transport maps it to its own status. */
    public readonly kind: ErrorKind,
    /** Stable machine-readable code, e.g. `PROFILE_NOT_FOUND`. */
    public readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(ErrorKind.INVALID_INPUT, 'VALIDATION_FAILED', message, { details });
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super(ErrorKind.INVALID_INPUT, 'MALFORMED_JSON', 'The request body is not valid JSON');
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super(ErrorKind.UNAUTHENTICATED, 'UNAUTHORIZED', message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this') {
    super(ErrorKind.FORBIDDEN, 'FORBIDDEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(ErrorKind.NOT_FOUND, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(ErrorKind.CONFLICT, code, message);
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string) {
    super(ErrorKind.UNPROCESSABLE, code, message);
  }
}

/** A dependency is down or its circuit is open: the request may be retried later. */
export class DependencyUnavailableError extends AppError {
  constructor(dependency: string, retryAfterSeconds: number) {
    super(
      ErrorKind.UNAVAILABLE,
      'DEPENDENCY_UNAVAILABLE',
      `The ${dependency} service is unavailable; retry later`,
      { retryAfterSeconds },
    );
  }
}
