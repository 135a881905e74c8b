/** Options of {@link withRetry}. */
export interface RetryOptions {
  /**
   * Total attempts including the first; an integer from 1 to 10.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Backoff before the second attempt, doubled for every further attempt (before jitter), in milliseconds.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Cap of the backoff (before jitter), in milliseconds.
   * @default 1000
   */
  readonly maxDelayMs?: number;
  /**
   * Whether an error is worth another attempt; errors for which it returns false are rethrown at once.
   * @default - every error is retried
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /**
   * Waits between attempts; inject one in tests.
   * @default - a `setTimeout` based sleep
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Source of jitter in [0, 1); inject one in tests.
   * @default - `Math.random`
   */
  readonly random?: () => number;
  /**
   * Called before each wait, with the number of the attempt that failed (from 1), the delay before the
   * next attempt and the error (for logs and metrics).
   * @default - no listener
   */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

const DEFAULT_MAX_ATTEMPTS = 3;
const MAX_MAX_ATTEMPTS = 10;
const DEFAULT_BASE_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 1000;

/**
 * Calls `fn` until it resolves, retrying retryable errors with capped exponential backoff and "full
 * jitter": after failed attempt `n` it waits `random() * min(maxDelayMs, baseDelayMs * 2 ** (n - 1))`.
 *
 * @param fn - the operation; receives the attempt number, starting at 1
 * @param options - see {@link RetryOptions}
 * @returns what the first successful attempt resolved to
 * @throws a non-retryable error, or the last attempt's error, unchanged; an Error naming the option when
 *   an option is invalid (before `fn` is called)
 *
 * @example
 * const profile = await withRetry(() => client.get(`profiles/${id}`), { maxAttempts: 2 });
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_MAX_ATTEMPTS) {
    throw new Error(
      `withRetry maxAttempts must be an integer from 1 to ${MAX_MAX_ATTEMPTS}, got ${maxAttempts}`,
    );
  }
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
    throw new Error(`withRetry baseDelayMs must be a finite number >= 0, got ${baseDelayMs}`);
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) {
    throw new Error(`withRetry maxDelayMs must be a finite number >= 0, got ${maxDelayMs}`);
  }
  const isRetryable = options.isRetryable ?? (() => true);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      const delayMs = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      options.onRetry?.(attempt, delayMs, error);
      await sleep(delayMs);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
