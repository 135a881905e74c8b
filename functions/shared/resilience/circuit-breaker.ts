/** The states of a {@link CircuitBreaker}. */
export enum BreakerState {
  /** Calls pass through; consecutive failures are counted. */
  CLOSED = 'CLOSED',
  /** Calls are rejected at once with {@link CircuitOpenError} until the reset timeout has elapsed. */
  OPEN = 'OPEN',
  /** The reset timeout has elapsed: the next call is a single probe that decides whether to close again. */
  HALF_OPEN = 'HALF_OPEN',
}

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Name of the protected dependency, used in errors and state-change reports (e.g. `users`). */
  readonly name: string;
  /**
   * Consecutive failures that open the breaker; an integer of at least 1.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * How long the breaker stays open before it lets one half-open probe through, in milliseconds (≥ 0).
   * @default 30000
   */
  readonly resetTimeoutMs?: number;
  /**
   * The clock, in milliseconds; inject one in tests.
   * @default - `Date.now`
   */
  readonly now?: () => number;
  /**
   * Called synchronously on every state transition (for logs and metrics). Errors it throws are ignored so
   * that a faulty listener cannot break calls.
   * @default - no listener
   */
  readonly onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

/** Rejection of a call that the breaker did not let through; the protected function was not called. */
export class CircuitOpenError extends Error {
  /**
   * @param breaker - name of the breaker that rejected the call
   * @param retryAfterMs - how long until the breaker lets a probe through; 0 while a half-open probe is in
   *   flight (its outcome decides, and is not known yet)
   */
  constructor(
    public readonly breaker: string,
    public readonly retryAfterMs: number,
  ) {
    super(`Circuit breaker "${breaker}" is open; retry after ${retryAfterMs} ms`);
    this.name = new.target.name;
  }
}

const DEFAULT_FAILURE_THRESHOLD = 5;
const DEFAULT_RESET_TIMEOUT_MS = 30_000;

/**
 * A consecutive-failure circuit breaker for calls to one dependency.
 *
 * CLOSED passes calls through and counts consecutive failures (a success resets the count); at
 * `failureThreshold` it opens. OPEN rejects calls with {@link CircuitOpenError} without calling them until
 * `resetTimeoutMs` has elapsed; then the next call is the single HALF_OPEN probe, and calls arriving while
 * it is in flight are rejected. A probe success closes the breaker, a probe failure opens it again with a
 * fresh timeout.
 *
 * Results of calls that started before the latest transition (e.g. slow calls still in flight when the
 * breaker opened) do not change the state.
 *
 * @example
 * const breaker = new CircuitBreaker({ name: 'users' });
 * const profile = await breaker.execute(() => fetchProfile(id));
 */
export class CircuitBreaker {
  /** Name of the protected dependency. */
  public readonly name: string;
  private readonly failureThreshold: number;
  private readonly resetTimeoutMs: number;
  private readonly now: () => number;
  private readonly onStateChange?: (from: BreakerState, to: BreakerState) => void;

  private current = BreakerState.CLOSED;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  /** Incremented on every transition, so that late results of earlier calls are not applied. */
  private generation = 0;

  /** @throws Error naming the option when an option is invalid. */
  constructor(options: CircuitBreakerOptions) {
    const failureThreshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    const resetTimeoutMs = options.resetTimeoutMs ?? DEFAULT_RESET_TIMEOUT_MS;
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new Error(`CircuitBreaker name must be a non-empty string, got ${JSON.stringify(options.name)}`);
    }
    if (!Number.isInteger(failureThreshold) || failureThreshold < 1) {
      throw new Error(`CircuitBreaker failureThreshold must be an integer >= 1, got ${failureThreshold}`);
    }
    if (!Number.isFinite(resetTimeoutMs) || resetTimeoutMs < 0) {
      throw new Error(`CircuitBreaker resetTimeoutMs must be a finite number >= 0, got ${resetTimeoutMs}`);
    }
    this.name = options.name;
    this.failureThreshold = failureThreshold;
    this.resetTimeoutMs = resetTimeoutMs;
    this.now = options.now ?? Date.now;
    this.onStateChange = options.onStateChange;
  }

  /** The state as of `now()`: an OPEN breaker whose reset timeout has elapsed reports HALF_OPEN. */
  get state(): BreakerState {
    if (this.current === BreakerState.OPEN && this.remainingOpenMs() <= 0) return BreakerState.HALF_OPEN;
    return this.current;
  }

  /**
   * Runs `fn` through the breaker.
   *
   * @param fn - the call to the dependency
   * @param isFailure - whether an error `fn` threw is a failure of the dependency; errors for which it
   *   returns false are rethrown without counting as failure or success (default: every error counts)
   * @returns what `fn` resolved to
   * @throws {@link CircuitOpenError} without calling `fn` while the breaker is open or a probe is in flight;
   *   otherwise whatever `fn` threw, unchanged
   */
  async execute<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    const isProbe = this.admit();
    const generation = this.generation;
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (safeIsFailure(isFailure, error)) this.recordFailure(generation, isProbe);
      else if (isProbe) this.probeInFlight = false; // the probe proved nothing: let the next call probe
      throw error;
    }
    this.recordSuccess(generation, isProbe);
    return result;
  }

  /** Lets a call through or throws CircuitOpenError; returns whether the call is the half-open probe. */
  private admit(): boolean {
    if (this.current === BreakerState.OPEN) {
      const remaining = this.remainingOpenMs();
      if (remaining > 0) throw new CircuitOpenError(this.name, remaining);
      this.transition(BreakerState.HALF_OPEN);
    }
    if (this.current === BreakerState.HALF_OPEN) {
      if (this.probeInFlight) throw new CircuitOpenError(this.name, 0);
      this.probeInFlight = true;
      return true;
    }
    return false;
  }

  private recordSuccess(generation: number, isProbe: boolean): void {
    if (generation !== this.generation) return;
    this.consecutiveFailures = 0;
    if (isProbe) {
      this.probeInFlight = false;
      this.transition(BreakerState.CLOSED);
    }
  }

  private recordFailure(generation: number, isProbe: boolean): void {
    if (generation !== this.generation) return;
    if (isProbe) {
      this.probeInFlight = false;
      this.open();
      return;
    }
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= this.failureThreshold) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition(BreakerState.OPEN);
  }

  private remainingOpenMs(): number {
    return Math.max(0, this.openedAt + this.resetTimeoutMs - this.now());
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    this.current = to;
    this.generation += 1;
    if (to === BreakerState.CLOSED) this.consecutiveFailures = 0;
    if (from === to) return;
    try {
      this.onStateChange?.(from, to);
    } catch {
      // A listener is for logs and metrics; it must not change the outcome of the call.
    }
  }
}

function safeIsFailure(isFailure: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return isFailure(error);
  } catch {
    return true;
  }
}
