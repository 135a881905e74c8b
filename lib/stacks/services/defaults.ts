import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from '../../config/environments';
import { DataProtection } from '../../constructs/data-protection';
import type { DeploymentOptions } from '../../constructs/deployment';
import { TrafficShift } from '../../constructs/deployment';
import { LogLevel } from '../../constructs/service-function';
import type { ServiceDefinition } from '../service-stack';

/** What every reference service takes from the environment's configuration. */
export function serviceDefaults(
  config: EnvironmentConfig,
): Pick<ServiceDefinition, 'dataProtection' | 'logRetention' | 'logLevel' | 'throttle' | 'deployment'> {
  return {
    dataProtection: config.retainData ? DataProtection.RETAIN : DataProtection.DESTROY,
    logRetention: config.logRetentionDays as logs.RetentionDays,
    logLevel: LogLevel[config.logLevel],
    throttle: config.apiThrottle,
    deployment: deploymentOf(config),
  };
}

/**
 * Safe rollouts from the configuration's `deployment` (prod: a 10% canary for 5 minutes); none without it, so
 * `dev` and `local` deploy at once, with no CodeDeploy deployment groups.
 */
export function deploymentOf(config: EnvironmentConfig): DeploymentOptions | undefined {
  const { deployment } = config;
  if (deployment === undefined) return undefined;
  const interval = Duration.minutes(deployment.intervalMinutes ?? 0);
  const percentage = deployment.percentage ?? 0;
  switch (deployment.strategy) {
    case 'CANARY':
      return { trafficShift: TrafficShift.canary(percentage, interval) };
    case 'LINEAR':
      return { trafficShift: TrafficShift.linear(percentage, interval) };
    default:
      return { trafficShift: TrafficShift.ALL_AT_ONCE };
  }
}
