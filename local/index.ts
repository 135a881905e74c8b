// The programmatic local runtime (`cdk-microservices/local`): start the offline runtime of a synthesized
// app from code, e.g. in an integration test. The `cdk-microservices` CLI is built on the same functions.
export * from './runtime';
export type * from './model';
export { signIn } from './token';
export type { RuntimeInfo } from './token';
