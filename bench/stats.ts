/** Order statistics of a sample (nearest-rank percentiles, no interpolation). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of an empty sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** A number with `digits` decimals, as text for tables. */
export const fixed = (value: number, digits = 1): string => value.toFixed(digits);

/** Bytes as KB (1 KB = 1024 bytes), one decimal. */
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

/** Peak resident set size of a process that is still running (Linux /proc), in bytes. */
export function peakRssOf(pid: number): number | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const status: string = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
