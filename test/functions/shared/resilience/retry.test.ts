import { withRetry } from '../../../../functions/shared/resilience/retry';

class Retryable extends Error {}
class Permanent extends Error {}

/** A sleep that records the delays and resolves at once. */
function recordingSleep() {
  const delays: number[] = [];
  const sleep = (ms: number) => {
    delays.push(ms);
    return Promise.resolve();
  };
  return { delays, sleep };
}

describe('withRetry', () => {
  it('retries retryable errors until an attempt succeeds, numbering attempts from 1', async () => {
    const { delays, sleep } = recordingSleep();
    const attempts: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Retryable(`attempt ${attempt}`);
        return 'done';
      },
      { sleep, isRetryable: (e) => e instanceof Retryable },
    );
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toHaveLength(2);
  });

  it('does not retry when the first attempt succeeds', async () => {
    const { delays, sleep } = recordingSleep();
    const fn = jest.fn(() => Promise.resolve(42));
    await expect(withRetry(fn, { sleep })).resolves.toBe(42);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });

  it('stops at maxAttempts and rethrows the last error unchanged', async () => {
    const { delays, sleep } = recordingSleep();
    const errors = [new Retryable('first'), new Retryable('second'), new Retryable('third')];
    const fn = jest.fn((attempt: number) => Promise.reject(errors[attempt - 1]));
    await expect(withRetry(fn, { maxAttempts: 3, sleep })).rejects.toBe(errors[2]);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(delays).toHaveLength(2);
  });

  it('makes 3 attempts by default', async () => {
    const { sleep } = recordingSleep();
    const fn = jest.fn(() => Promise.reject(new Retryable('down')));
    await expect(withRetry(fn, { sleep })).rejects.toThrow('down');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('does not retry non-retryable errors, rethrowing them unchanged', async () => {
    const { delays, sleep } = recordingSleep();
    const permanent = new Permanent('bad request');
    const fn = jest.fn(() => Promise.reject(permanent));
    await expect(
      withRetry(fn, { maxAttempts: 5, sleep, isRetryable: (e) => e instanceof Retryable }),
    ).rejects.toBe(permanent);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(delays).toEqual([]);
  });

  it('waits random() * min(maxDelayMs, baseDelayMs * 2^(attempt-1)) between attempts (full jitter)', async () => {
    const alwaysFail = () => Promise.reject(new Retryable('down'));
    const options = { maxAttempts: 7, baseDelayMs: 100, maxDelayMs: 1000 };

    const atMost = recordingSleep();
    await expect(
      withRetry(alwaysFail, { ...options, sleep: atMost.sleep, random: () => 1 }),
    ).rejects.toThrow();
    expect(atMost.delays).toEqual([100, 200, 400, 800, 1000, 1000]);

    const half = recordingSleep();
    const retries: Array<[number, number]> = [];
    await expect(
      withRetry(alwaysFail, {
        ...options,
        sleep: half.sleep,
        random: () => 0.5,
        onRetry: (attempt, delayMs) => retries.push([attempt, delayMs]),
      }),
    ).rejects.toThrow();
    expect(half.delays).toEqual([50, 100, 200, 400, 500, 500]);
    expect(retries).toEqual([
      [1, 50],
      [2, 100],
      [3, 200],
      [4, 400],
      [5, 500],
      [6, 500],
    ]);
  });

  it('passes the failed attempt, the delay and the error to onRetry', async () => {
    const { sleep } = recordingSleep();
    const error = new Retryable('flaky');
    const onRetry = jest.fn();
    await withRetry(
      async (attempt) => {
        if (attempt === 1) throw error;
        return 'ok';
      },
      { sleep, random: () => 0.25, baseDelayMs: 40, onRetry },
    );
    expect(onRetry).toHaveBeenCalledTimes(1);
    expect(onRetry).toHaveBeenCalledWith(1, 10, error);
  });

  it('sleeps with a real timer by default', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw new Retryable('once');
        return 'after a real sleep';
      },
      { baseDelayMs: 1 },
    );
    expect(result).toBe('after a real sleep');
    expect(calls).toBe(2);
  });

  it.each([0, 11, 2.5, Number.NaN])(
    'fails for maxAttempts %p, naming the option, without calling fn',
    async (n) => {
      const fn = jest.fn(() => Promise.resolve('never'));
      await expect(withRetry(fn, { maxAttempts: n })).rejects.toThrow(
        new RegExp(`maxAttempts must be an integer from 1 to 10, got ${n}`),
      );
      expect(fn).not.toHaveBeenCalled();
    },
  );

  it('accepts maxAttempts 1 (no retries) and 10', async () => {
    const { sleep } = recordingSleep();
    const once = jest.fn(() => Promise.reject(new Retryable('down')));
    await expect(withRetry(once, { maxAttempts: 1, sleep })).rejects.toThrow('down');
    expect(once).toHaveBeenCalledTimes(1);
    const ten = jest.fn(() => Promise.reject(new Retryable('down')));
    await expect(withRetry(ten, { maxAttempts: 10, sleep })).rejects.toThrow('down');
    expect(ten).toHaveBeenCalledTimes(10);
  });

  it.each([
    [{ baseDelayMs: -1 }, /baseDelayMs.*got -1/],
    [{ maxDelayMs: Number.POSITIVE_INFINITY }, /maxDelayMs.*got Infinity/],
  ])('fails for invalid delays %p, naming the option', async (options, message) => {
    await expect(withRetry(() => Promise.resolve(1), options)).rejects.toThrow(message);
  });
});
