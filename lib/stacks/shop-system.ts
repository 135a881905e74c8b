import type { Environment } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { FunctionBundler } from '../constructs/function-bundler';
import { Microservice } from '../constructs/microservice';
import { AccountStack } from './account-stack';
import { PlatformStack } from './platform-stack';
import type { ServiceDefinition } from './service-stack';
import { ServiceStack } from './service-stack';
import { INVENTORY_SCOPES, inventoryService } from './services/inventory';
import { ORDERS_SCOPES, ordersService } from './services/orders';
import { applyServiceSettings } from './services/settings';
import { USERS_SCOPES, usersService } from './services/users';

/** The stacks of one environment of the reference system. */
export interface ShopSystem {
  readonly account: AccountStack;
  readonly platform: PlatformStack;
  readonly services: Record<string, ServiceStack>;
}

/**
 * Composes the reference system for one environment: `{app}-{env}-Platform` and one stack per service
 * (`{app}-{env}-Users`, ...), each attached to the platform through the registry. `scope` is the app, or a
 * `Stage` of it (the pipeline deploys each environment as one): stack names and logical IDs are the same in both.
 */
export function createShopSystem(scope: Construct, config: EnvironmentConfig): ShopSystem {
  const env: Environment | undefined =
    config.account || config.region ? { account: config.account, region: config.region } : undefined;
  const prefix = `${config.appName}-${config.envName}`;
  const account = new AccountStack(scope, `${config.appName}-Account`, {
    env,
    stackName: `${config.appName}-Account`,
    description: `${config.appName}: settings shared by every environment in this account and region (API Gateway logging role)`,
  });
  const definitions: ServiceDefinition[] = applyServiceSettings(config, [
    usersService(config),
    ordersService(config),
    inventoryService(config),
  ]);
  // One esbuild build for every function of the app, the platform's trigger included.
  FunctionBundler.of(scope).prepare(definitions.flatMap((service) => Microservice.entriesOf(service)));
  const platform = new PlatformStack(scope, `${prefix}-Platform`, {
    env,
    stackName: `${prefix}-Platform`,
    description: `${config.appName} ${config.envName}: shared platform (identity, events, registry, WAF, alarms)`,
    config,
    scopes: [...USERS_SCOPES, ...ORDERS_SCOPES, ...INVENTORY_SCOPES],
    defaultScopes: ['users.read', 'users.write', 'orders.read', 'orders.write', 'inventory.read'],
    groups: [
      {
        name: 'admins',
        description: 'Operators: may read and change any profile or order, and set stock levels',
        scopes: ['inventory.admin'],
      },
      { name: 'customers', description: 'Shoppers' },
    ],
  });

  const services: Record<string, ServiceStack> = {};
  for (const service of definitions) {
    const name = service.serviceName.charAt(0).toUpperCase() + service.serviceName.slice(1);
    const stack = new ServiceStack(scope, `${prefix}-${name}`, {
      env,
      stackName: `${prefix}-${name}`,
      description: `${config.appName} ${config.envName}: ${service.serviceName} service`,
      appName: config.appName,
      envName: config.envName,
      service,
    });
    // Deployment order only: the service reads the platform's registry entries, it imports no exports.
    stack.addStackDependency(platform, 'reads the platform registry entries at deploy time');
    stack.addStackDependency(account, 'API stages log through the account-wide API Gateway role');
    // A service that calls another reads the callee's registry entries, so the callee deploys first.
    const callees = new Set((service.routes ?? []).flatMap((r) => (r.calls ?? []).map((c) => c.service)));
    for (const callee of callees) {
      const target = services[callee];
      if (!target) throw new Error(`${service.serviceName} calls ${callee}, which must be defined before it`);
      stack.addStackDependency(target, `reads the ${callee} registry entries at deploy time`);
    }
    services[service.serviceName] = stack;
  }
  return { account, platform, services };
}

/** The services of the reference system, in deployment order (a callee before its callers). */
export function shopServices(config: EnvironmentConfig): ServiceDefinition[] {
  return [usersService(config), ordersService(config), inventoryService(config)];
}

/** The security checks moved to the library (`addSecurityChecks` from `cdk-microservices`); re-exported for the Shop's callers. */
export { addSecurityChecks } from '../constructs/security-checks';
