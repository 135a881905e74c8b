import { RemovalPolicy } from 'aws-cdk-lib';

/**
 * What happens to stateful resources (tables, keys, user pools, log groups) when a stack is deleted
 * or a resource is replaced.
 */
export enum DataProtection {
  /** Keep the data: RETAIN removal policy and deletion protection on. The default everywhere. */
  RETAIN = 'RETAIN',
  /** Throw-away environments (dev, local): resources are deleted with the stack. */
  DESTROY = 'DESTROY',
}

/** @internal */
export function removalPolicyFor(protection: DataProtection): RemovalPolicy {
  return protection === DataProtection.RETAIN ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
