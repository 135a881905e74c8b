import { Token } from 'aws-cdk-lib';
import { fail, requireIntegerInRange } from './validation';

// Provisioned concurrency with target-tracking auto scaling on a function's `live` alias, for latency-critical
// routes: what it is and the checks that make a bad range fail synth naming the prop.

/**
 * Provisioned concurrency that follows demand: Application Auto Scaling keeps the `live` alias's provisioned
 * concurrency between `minCapacity` and `maxCapacity`, tracking `utilizationTarget` of it in use
 * (`LambdaProvisionedConcurrencyUtilization`). For latency-critical functions, whose callers must not wait for
 * cold starts.
 */
export interface ProvisionedConcurrencyScaling {
  /** Environments kept initialized at all times (at least 1). */
  readonly minCapacity: number;
  /** Most environments auto scaling provisions (at least `minCapacity`). */
  readonly maxCapacity: number;
  /**
   * Share of the provisioned concurrency in use that auto scaling keeps, from 0.1 to 0.9.
   * @default 0.7
   */
  readonly utilizationTarget?: number;
}

/**
 * Checks a {@link ProvisionedConcurrencyScaling} given as `prop` of `construct`: whole capacities from 1, min ≤
 * max, a utilization target from 0.1 to 0.9. Values that are tokens are left to deploy time. @internal
 */
export function validateProvisionedScaling(
  construct: string,
  prop: string,
  scaling: ProvisionedConcurrencyScaling,
): void {
  if (scaling.minCapacity === undefined) fail(construct, `${prop}.minCapacity`, undefined, 'is required');
  if (scaling.maxCapacity === undefined) fail(construct, `${prop}.maxCapacity`, undefined, 'is required');
  requireIntegerInRange(construct, `${prop}.minCapacity`, scaling.minCapacity, 1, 100000);
  requireIntegerInRange(construct, `${prop}.maxCapacity`, scaling.maxCapacity, 1, 100000);
  if (known(scaling.minCapacity) && known(scaling.maxCapacity) && scaling.minCapacity > scaling.maxCapacity) {
    fail(
      construct,
      `${prop}.minCapacity`,
      scaling.minCapacity,
      `must not exceed ${prop}.maxCapacity (${scaling.maxCapacity})`,
    );
  }
  const target = scaling.utilizationTarget;
  if (target !== undefined && known(target) && !(target >= 0.1 && target <= 0.9)) {
    fail(
      construct,
      `${prop}.utilizationTarget`,
      target,
      'must be from 0.1 to 0.9 (the share of provisioned concurrency in use that auto scaling keeps)',
    );
  }
}

/**
 * A fixed provisioned concurrency (`fixedProp`) beside auto scaling (`scalingProp`) is only the starting value,
 * so it must lie within the scaling range: outside it, auto scaling would change it at once (the two disagree).
 * @internal
 */
export function requireProvisionedAgreement(
  construct: string,
  fixedProp: string,
  fixed: number | undefined,
  scalingProp: string,
  scaling: ProvisionedConcurrencyScaling | undefined,
): void {
  if (fixed === undefined || scaling === undefined) return;
  const { minCapacity, maxCapacity } = scaling;
  if (!known(fixed) || !known(minCapacity) || !known(maxCapacity)) return;
  if (fixed < minCapacity || fixed > maxCapacity) {
    fail(
      construct,
      fixedProp,
      fixed,
      `disagrees with ${scalingProp} (minCapacity ${minCapacity}, maxCapacity ${maxCapacity}): auto scaling would change it at once; leave ${fixedProp} unset or give a starting value within that range`,
    );
  }
}

function known(value: number): boolean {
  return !Token.isUnresolved(value);
}
