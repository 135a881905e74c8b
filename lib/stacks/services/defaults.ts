import type * as logs from 'aws-cdk-lib/aws-logs';
import type { EnvironmentConfig } from '../../config/environments';
import { DataProtection } from '../../constructs/data-protection';
import { LogLevel } from '../../constructs/service-function';
import type { ServiceDefinition } from '../service-stack';

/** What every reference service takes from the environment's configuration. */
export function serviceDefaults(
  config: EnvironmentConfig,
): Pick<ServiceDefinition, 'dataProtection' | 'logRetention' | 'logLevel' | 'throttle'> {
  return {
    dataProtection: config.retainData ? DataProtection.RETAIN : DataProtection.DESTROY,
    logRetention: config.logRetentionDays as logs.RetentionDays,
    logLevel: LogLevel[config.logLevel],
    throttle: config.apiThrottle,
  };
}
