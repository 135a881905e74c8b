import {
  BreakerState,
  CircuitBreaker,
  CircuitOpenError,
} from '../../../../functions/shared/resilience/circuit-breaker';
import type { CircuitBreakerOptions } from '../../../../functions/shared/resilience/circuit-breaker';

const RESET_MS = 10_000;

/** A breaker on a fake clock that the test moves with `advance`. */
function fakeClockBreaker(options: Partial<CircuitBreakerOptions> = {}) {
  let time = 1_000_000;
  const breaker = new CircuitBreaker({
    name: 'users',
    failureThreshold: 3,
    resetTimeoutMs: RESET_MS,
    now: () => time,
    ...options,
  });
  return {
    breaker,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

const succeed = () => Promise.resolve('ok');
const fail = () => Promise.reject(new Error('dependency down'));

async function failTimes(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(fail)).rejects.toThrow('dependency down');
}

/** A promise the test settles by hand, to hold a call in flight. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function openBreaker() {
  const clock = fakeClockBreaker();
  await failTimes(clock.breaker, 3);
  expect(clock.breaker.state).toBe(BreakerState.OPEN);
  return clock;
}

describe('CircuitBreaker', () => {
  it('starts CLOSED and passes calls and their results through', async () => {
    const { breaker } = fakeClockBreaker();
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    const error = new Error('exact error');
    await expect(breaker.execute(() => Promise.reject(error))).rejects.toBe(error);
  });

  it('stays CLOSED below the threshold, and a success resets the consecutive-failure count', async () => {
    const { breaker } = fakeClockBreaker();
    await failTimes(breaker, 2);
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await breaker.execute(succeed);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe(BreakerState.CLOSED); // 4 failures in all, but never 3 in a row
    await failTimes(breaker, 1);
    expect(breaker.state).toBe(BreakerState.OPEN);
  });

  it('opens at the failure threshold', async () => {
    const { breaker } = fakeClockBreaker({ failureThreshold: 3 });
    await failTimes(breaker, 3);
    expect(breaker.state).toBe(BreakerState.OPEN);
  });

  it('uses a threshold of 5 and a reset timeout of 30 s by default', async () => {
    let time = 0;
    const breaker = new CircuitBreaker({ name: 'users', now: () => time });
    await failTimes(breaker, 4);
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe(BreakerState.OPEN);
    time += 29_999;
    expect(breaker.state).toBe(BreakerState.OPEN);
    time += 1;
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);
  });

  it('rejects calls while OPEN with CircuitOpenError, without calling fn, reporting the time left', async () => {
    const { breaker, advance } = await openBreaker();
    advance(4_000);
    const fn = jest.fn(succeed);
    const error = await breaker.execute(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ breaker: 'users', retryAfterMs: 6_000, name: 'CircuitOpenError' });
    expect((error as Error).message).toMatch(/"users" is open; retry after 6000 ms/);
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.state).toBe(BreakerState.OPEN);
  });

  it('becomes HALF_OPEN after resetTimeoutMs and lets exactly one probe through, rejecting concurrent calls', async () => {
    const { breaker, advance } = await openBreaker();
    advance(RESET_MS - 1);
    expect(breaker.state).toBe(BreakerState.OPEN);
    advance(1);
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);

    const held = deferred<string>();
    const probe = jest.fn(() => held.promise);
    const probeCall = breaker.execute(probe);
    const concurrent = jest.fn(succeed);
    const rejected = await breaker.execute(concurrent).catch((e: unknown) => e);

    expect(probe).toHaveBeenCalledTimes(1);
    expect(concurrent).not.toHaveBeenCalled();
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect(rejected).toMatchObject({ retryAfterMs: 0 });
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);
    held.resolve('probed');
    await expect(probeCall).resolves.toBe('probed');
  });

  it('closes when the probe succeeds, with the failure count reset', async () => {
    const { breaker, advance } = await openBreaker();
    advance(RESET_MS);
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe(BreakerState.OPEN);
  });

  it('re-opens with a fresh timeout when the probe fails', async () => {
    const { breaker, advance } = await openBreaker();
    advance(RESET_MS + 5_000); // well past the first timeout
    await expect(breaker.execute(fail)).rejects.toThrow('dependency down');
    expect(breaker.state).toBe(BreakerState.OPEN);
    const error = await breaker.execute(succeed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ retryAfterMs: RESET_MS });
    advance(RESET_MS - 1);
    expect(breaker.state).toBe(BreakerState.OPEN);
    advance(1);
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);
  });

  it('does not count errors for which isFailure returns false, and rethrows them unchanged', async () => {
    const { breaker } = fakeClockBreaker({ failureThreshold: 1 });
    const notOurs = new Error('validation failed');
    const isFailure = (error: unknown) => error !== notOurs;
    for (let i = 0; i < 3; i++) {
      await expect(breaker.execute(() => Promise.reject(notOurs), isFailure)).rejects.toBe(notOurs);
    }
    expect(breaker.state).toBe(BreakerState.CLOSED);
    await expect(breaker.execute(fail, isFailure)).rejects.toThrow('dependency down');
    expect(breaker.state).toBe(BreakerState.OPEN);
  });

  it('lets the next call probe when the probe fails with an error that is not a failure', async () => {
    const { breaker, advance } = await openBreaker();
    advance(RESET_MS);
    const notOurs = new Error('bad input');
    await expect(
      breaker.execute(
        () => Promise.reject(notOurs),
        (e) => e !== notOurs,
      ),
    ).rejects.toBe(notOurs);
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    expect(breaker.state).toBe(BreakerState.CLOSED);
  });

  it('ignores late results of calls that started before it opened', async () => {
    const { breaker, advance } = fakeClockBreaker({ failureThreshold: 1 });
    const slowSuccess = deferred<string>();
    const slowFailure = deferred<string>();
    const successCall = breaker.execute(() => slowSuccess.promise);
    const failureCall = breaker.execute(() => slowFailure.promise);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe(BreakerState.OPEN);

    slowSuccess.resolve('late');
    await expect(successCall).resolves.toBe('late');
    expect(breaker.state).toBe(BreakerState.OPEN);

    advance(RESET_MS / 2);
    slowFailure.reject(new Error('late failure'));
    await expect(failureCall).rejects.toThrow('late failure');
    advance(RESET_MS / 2); // the timeout still runs from the opening, not from the late failure
    expect(breaker.state).toBe(BreakerState.HALF_OPEN);
  });

  it('reports every transition to onStateChange, and survives a listener that throws', async () => {
    const transitions: string[] = [];
    const { breaker, advance } = fakeClockBreaker({
      failureThreshold: 1,
      onStateChange: (from, to) => {
        transitions.push(`${from}->${to}`);
        throw new Error('listener bug');
      },
    });
    await failTimes(breaker, 1);
    advance(RESET_MS);
    await failTimes(breaker, 1);
    advance(RESET_MS);
    await expect(breaker.execute(succeed)).resolves.toBe('ok');
    expect(transitions).toEqual([
      'CLOSED->OPEN',
      'OPEN->HALF_OPEN',
      'HALF_OPEN->OPEN',
      'OPEN->HALF_OPEN',
      'HALF_OPEN->CLOSED',
    ]);
  });

  it.each([
    [{ failureThreshold: 0 }, /failureThreshold.*got 0/],
    [{ failureThreshold: 2.5 }, /failureThreshold.*got 2\.5/],
    [{ resetTimeoutMs: -1 }, /resetTimeoutMs.*got -1/],
    [{ resetTimeoutMs: Number.NaN }, /resetTimeoutMs.*got NaN/],
    [{ name: '' }, /name.*got ""/],
  ])('fails for invalid options %p, naming the option and the value', (options, message) => {
    expect(() => new CircuitBreaker({ name: 'users', ...options })).toThrow(message);
  });
});
