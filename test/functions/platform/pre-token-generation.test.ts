import type { PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { handler, scopesFor } from '../../../functions/platform/handlers/pre-token-generation';
import { lambdaContext } from '../api-event';

const grants = {
  defaultScopes: ['api/users.read'],
  groups: { admins: ['api/users.admin', 'api/users.read'], customers: [] },
};

describe('scopesFor', () => {
  it('gives every user the default scopes', () => {
    expect(scopesFor(grants, [])).toEqual(['api/users.read']);
  });

  it("adds each group's scopes once", () => {
    expect(scopesFor(grants, ['admins', 'customers'])).toEqual(['api/users.admin', 'api/users.read']);
  });

  it('ignores unknown groups', () => {
    expect(scopesFor(grants, ['strangers'])).toEqual(['api/users.read']);
  });
});

describe('pre-token-generation trigger', () => {
  it("adds the scopes for the user's groups to the access token (from SCOPE_GRANTS)", async () => {
    const event = {
      version: '2',
      triggerSource: 'TokenGeneration_Authentication',
      request: {
        userAttributes: {},
        groupConfiguration: { groupsToOverride: ['admins'], iamRolesToOverride: [] },
        scopes: [],
      },
      response: {},
    } as unknown as PreTokenGenerationV2TriggerEvent;
    const result = await handler(event, lambdaContext);
    expect(result.response.claimsAndScopeOverrideDetails?.accessTokenGeneration?.scopesToAdd).toEqual([
      'api/users.admin',
      'api/users.read',
    ]);
  });
});
