/**
 * Stands in for `@aws-sdk/credential-provider-node` inside service-function bundles (an esbuild alias,
 * see lib/constructs/function-bundler.ts). Lambda gives every function its execution role's credentials
 * in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and the local runtime does the same,
 * so the SDK's full default chain (SSO, STS web identity, INI files, IMDS, login clients) is dead weight:
 * about 100 KB of every bundle and of every cold start. Without those variables the first AWS call fails
 * with the SDK's own "Unable to find environment variable credentials" error.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

type EnvInit = Parameters<typeof fromEnv>[0];

/** The SDK clients' credential provider: the function's environment, read when a request is signed. */
export function defaultProvider(init?: EnvInit): AwsCredentialIdentityProvider {
  return fromEnv(init);
}
