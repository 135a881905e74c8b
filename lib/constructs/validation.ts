/**
 * Prop validation shared by the constructs: every failure names the construct, the prop and the bad value,
 * so a mistake fails `cdk synth` with a message that says exactly what to fix.
 */
export function fail(construct: string, prop: string, value: unknown, expectation: string): never {
  throw new Error(`${construct}: invalid ${prop} ${show(value)}: ${expectation}`);
}

/** Renders a value for an error message; CDK tokens are shown as such rather than as their placeholder. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function requireMatch(
  construct: string,
  prop: string,
  value: string,
  pattern: RegExp,
  expectation: string,
): void {
  if (!pattern.test(value)) fail(construct, prop, value, expectation);
}

export function requireIntegerInRange(
  construct: string,
  prop: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(construct, prop, value, `must be a whole number from ${min} to ${max}`);
  }
}
