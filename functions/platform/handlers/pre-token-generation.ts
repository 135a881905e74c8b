import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import '../../shared/schema';
import { requiredEnv } from '../../shared/env';
import { logger, tracer } from '../../shared/powertools';

const ScopeGrants = z.object({
  defaultScopes: z.array(z.string()),
  groups: z.record(z.string(), z.array(z.string())),
});
export type ScopeGrants = z.infer<typeof ScopeGrants>;

const grants = ScopeGrants.parse(JSON.parse(requiredEnv('SCOPE_GRANTS')));

/** The scopes a user with these groups receives: the defaults plus each group's, without duplicates. */
export function scopesFor(config: ScopeGrants, groups: readonly string[]): string[] {
  const scopes = new Set(config.defaultScopes);
  for (const group of groups) for (const scope of config.groups[group] ?? []) scopes.add(scope);
  return [...scopes].sort();
}

/**
 * Cognito pre-token-generation trigger (event version 2): adds the platform's resource-server scopes to
 * the access token according to the user's groups, so API routes can require scopes of users who sign in
 * with SRP or a password, not only through the hosted OAuth flow.
 */
export const handler = middy(async (event: PreTokenGenerationV2TriggerEvent) => {
  const groups = event.request.groupConfiguration?.groupsToOverride ?? [];
  const scopesToAdd = scopesFor(grants, groups);
  logger.info('Adding scopes to access token', { groups, scopes: scopesToAdd, trigger: event.triggerSource });
  event.response = {
    claimsAndScopeOverrideDetails: {
      accessTokenGeneration: { scopesToAdd },
    },
  };
  return event;
})
  // The response is the token's scopes: not recorded in the trace.
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger));
