/**
 * Provisioning of a cloud assembly into the AWS emulator, one provisioner per AWS service under
 * `local/provisioner/` (tables, queues, buses and rules, user pools, registry parameters, functions, routes,
 * pipes, stand-ins for what is not emulated), and what a re-run on a changed assembly changed.
 */
export { provision } from './provisioner/provision';
export type { ProvisionOptions } from './provisioner/provision';
export { systemChanges } from './provisioner/changes';
