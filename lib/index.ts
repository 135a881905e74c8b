// The public API of cdk-microservices: everything another team may rely on is exported here.
// (lib/stacks composes the reference system and is not part of it.)
export * from './constructs/api-gateway-account';
export * from './constructs/data-protection';
export { SafeDeployment, TrafficShift, TrafficShiftType } from './constructs/deployment';
export type { DeploymentOptions, SafeDeploymentProps } from './constructs/deployment';
export { FrontDoor, FrontDoorRegistryKey, FRONT_DOOR_URL_KEY } from './constructs/front-door';
export type { FrontDoorProps, ServiceFrontDoorOptions } from './constructs/front-door';
export * from './constructs/microservice';
export { PartnerAccess } from './constructs/partner-access';
export type { PartnerAccessProps, PartnerPlan } from './constructs/partner-access';
export * from './constructs/platform';
export * from './constructs/platform-reference';
export * from './constructs/request-schema';
export { ServiceApi } from './constructs/service-api';
export type { RouteAuthorization, ServiceApiOverrides, ServiceApiProps } from './constructs/service-api';
export { ServiceTable, ServiceTableGrants } from './constructs/service-table';
export type { ServiceTableOverrides, ServiceTableProps, TableThroughput } from './constructs/service-table';
export * from './constructs/service-function';
export * from './constructs/service-configuration';
export * from './constructs/service-secrets';
export * from './constructs/function-bundler';
export * from './constructs/service-registry';
export * from './constructs/event-subscription';
export * from './constructs/event-type';
export * from './constructs/transactional-outbox';
export * from './constructs/security-checks';
// The contract types the construct props name (`events`, `publishes`); contracts themselves come from
// `cdk-microservices/contracts`.
export type { DataOf, EventContract } from '../functions/shared/events/contract';
export * from './constructs/monitoring';
