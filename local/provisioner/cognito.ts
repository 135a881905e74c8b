/**
 * Cognito user pools, app clients, resource servers (scopes) and groups, and the local identity built from
 * them. A pool or client that already exists under the template's name is reused (its users, passwords and
 * ids stay), a client and a group get the template's settings, a resource server its scopes where the
 * emulator can update them.
 */
import type {
  CreateUserPoolClientCommandInput,
  CreateUserPoolCommandInput,
  ResourceServerScopeType,
  UserPoolClientDescription,
  UserPoolDescriptionType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateGroupCommand,
  CreateResourceServerCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeResourceServerCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateGroupCommand,
  UpdateResourceServerCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import type { LocalIdentity } from '../model';
import type { Props, ProvisionState, ResourceProvisioner } from './state';
import { pick } from './state';

/** Properties of AWS::Cognito::UserPool that CreateUserPool takes under the same name. */
const POOL_SETTINGS = [
  'Policies',
  'UsernameAttributes',
  'AliasAttributes',
  'AutoVerifiedAttributes',
  'MfaConfiguration',
  'AccountRecoverySetting',
  'AdminCreateUserConfig',
  'VerificationMessageTemplate',
  'EmailVerificationMessage',
  'EmailVerificationSubject',
  'SmsVerificationMessage',
  'UsernameConfiguration',
  'UserPoolTags',
  'DeletionProtection',
];

/** Properties of AWS::Cognito::UserPoolClient that Create/UpdateUserPoolClient take under the same name. */
const CLIENT_SETTINGS = [
  'ExplicitAuthFlows',
  'AccessTokenValidity',
  'IdTokenValidity',
  'RefreshTokenValidity',
  'TokenValidityUnits',
  'PreventUserExistenceErrors',
  'SupportedIdentityProviders',
  'EnableTokenRevocation',
  'AllowedOAuthFlows',
  'AllowedOAuthScopes',
  'AllowedOAuthFlowsUserPoolClient',
  'CallbackURLs',
  'LogoutURLs',
  'ReadAttributes',
  'WriteAttributes',
];

/** Provisions `AWS::Cognito::UserPool`, `UserPoolClient`, `UserPoolResourceServer` and `UserPoolGroup`. */
export const cognitoProvisioner: ResourceProvisioner = {
  types: [
    'AWS::Cognito::UserPool',
    'AWS::Cognito::UserPoolClient',
    'AWS::Cognito::UserPoolResourceServer',
    'AWS::Cognito::UserPoolGroup',
  ],
  provision: (state, { resource, props, physicalName, logicalId }) => {
    switch (resource.Type) {
      case 'AWS::Cognito::UserPool':
        return provisionUserPool(state, props, physicalName);
      case 'AWS::Cognito::UserPoolClient':
        return provisionClient(state, props, physicalName);
      case 'AWS::Cognito::UserPoolResourceServer':
        return provisionResourceServer(state, props);
      default:
        return provisionGroup(state, props, logicalId);
    }
  },
};

async function provisionUserPool(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const name = String(props.UserPoolName ?? physicalName);
  // LambdaConfig is not given to the emulator (it runs no triggers): the runtime runs the pre-token trigger.
  const input: CreateUserPoolCommandInput = { PoolName: name, ...pick(props, POOL_SETTINGS) };
  const schema = (props.Schema as Props[] | undefined)?.map((attribute) => ({
    Name: attribute.Name,
    AttributeDataType: attribute.AttributeDataType ?? 'String',
    ...pick(attribute, [
      'Mutable',
      'Required',
      'DeveloperOnlyAttribute',
      'StringAttributeConstraints',
      'NumberAttributeConstraints',
    ]),
  }));
  if (schema) input.Schema = schema as CreateUserPoolCommandInput['Schema'];
  // Provisioned before (a re-run, or an external emulator): keep it, its users and its id.
  let pool: { Id?: string; Arn?: string } | undefined = await existingPool(state, name);
  if (!pool) ({ UserPool: pool } = await state.clients.cognito.send(new CreateUserPoolCommand(input)));
  const id = pool?.Id;
  if (!id) throw new Error(`user pool ${name} has no id`);
  const arn = pool?.Arn ?? state.arn('cognito-idp', `userpool/${id}`);
  const lambdaConfig = props.LambdaConfig as
    { PreTokenGenerationConfig?: { LambdaArn?: string }; PreTokenGeneration?: string } | undefined;
  state.pools.set(id, {
    id,
    arn,
    preTokenGenerationLambda:
      lambdaConfig?.PreTokenGenerationConfig?.LambdaArn ?? lambdaConfig?.PreTokenGeneration,
    clients: [],
    groups: [],
  });
  const providerName = `cognito-idp.${state.settings.emulator.region}.amazonaws.com/${id}`;
  return {
    ref: id,
    attributes: {
      Arn: arn,
      UserPoolId: id,
      ProviderName: providerName,
      ProviderURL: `https://${providerName}`,
    },
  };
}

/** The id of the pool of that name in the emulator, if any (ListUserPools gives no ARN). */
async function existingPool(
  state: ProvisionState,
  name: string,
): Promise<{ Id?: string; Arn?: string } | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await state.clients.cognito.send(
      new ListUserPoolsCommand({ MaxResults: 60, NextToken: nextToken }),
    );
    const found = (page.UserPools ?? []).find((pool: UserPoolDescriptionType) => pool.Name === name);
    if (found) return { Id: found.Id };
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

async function provisionClient(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const { cognito } = state.clients;
  const userPoolId = String(props.UserPoolId);
  const clientName = String(props.ClientName ?? physicalName);
  const settings = pick(props, CLIENT_SETTINGS) as Partial<CreateUserPoolClientCommandInput>;
  const existing = await existingClient(state, userPoolId, clientName);
  let clientId: string | undefined;
  let clientSecret: string | undefined;
  if (existing?.ClientId) {
    // Keep its id (tokens and registry entries name it); give it the template's settings.
    const { UserPoolClient } = await cognito.send(
      new UpdateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientId: existing.ClientId,
        ClientName: clientName,
        ...settings,
      }),
    );
    clientId = existing.ClientId;
    clientSecret = UserPoolClient?.ClientSecret;
  } else {
    const { UserPoolClient } = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: clientName,
        GenerateSecret: props.GenerateSecret === true,
        ...settings,
      }),
    );
    clientId = UserPoolClient?.ClientId;
    clientSecret = UserPoolClient?.ClientSecret;
  }
  if (!clientId) throw new Error(`user pool client ${clientName} has no id`);
  state.pools.get(userPoolId)?.clients.push(clientId);
  return {
    ref: clientId,
    attributes: {
      ClientId: clientId,
      ...(clientSecret ? { ClientSecret: clientSecret } : {}),
      Name: clientName,
    },
  };
}

async function existingClient(
  state: ProvisionState,
  userPoolId: string,
  clientName: string,
): Promise<UserPoolClientDescription | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await state.clients.cognito.send(
      new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: nextToken }),
    );
    const found = (page.UserPoolClients ?? []).find((client) => client.ClientName === clientName);
    if (found) return found;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

async function provisionResourceServer(state: ProvisionState, props: Props): Promise<ResourceValues> {
  const identifier = String(props.Identifier);
  const input = {
    UserPoolId: String(props.UserPoolId),
    Identifier: identifier,
    Name: String(props.Name),
    ...(props.Scopes ? { Scopes: props.Scopes as ResourceServerScopeType[] } : {}),
  };
  try {
    await state.clients.cognito.send(new CreateResourceServerCommand(input));
  } catch (error) {
    if (
      !isAwsError(error, 'InvalidParameterException') ||
      !/already exists/i.test(String((error as Error).message))
    )
      throw error;
    const { ResourceServer: existing } = await state.clients.cognito.send(
      new DescribeResourceServerCommand({ UserPoolId: input.UserPoolId, Identifier: identifier }),
    );
    const before = new Set((existing?.Scopes ?? []).map((scope) => scope.ScopeName));
    const after = new Set((input.Scopes ?? []).map((scope) => scope.ScopeName));
    const added = [...after].filter((scope) => !before.has(scope));
    const removed = [...before].filter((scope) => !after.has(scope));
    if (added.length === 0 && removed.length === 0 && existing?.Name === input.Name) return resourceServer();
    try {
      await state.clients.cognito.send(new UpdateResourceServerCommand(input));
    } catch {
      // moto cannot update a resource server (it answers with an HTML page): say what stays as it was.
      const change = [
        ...(added.length ? [`added ${added.join(', ')}`] : []),
        ...(removed.length ? [`removed ${removed.join(', ')}`] : []),
      ];
      state.log(
        `Warning: the emulator cannot update resource server ${identifier}: its scopes stay as first provisioned` +
          `${change.length ? ` (the template ${change.join('; ')})` : ''}; restart dev to apply them`,
      );
    }
  }
  return resourceServer();

  function resourceServer(): ResourceValues {
    return { ref: identifier, attributes: {} };
  }
}

async function provisionGroup(
  state: ProvisionState,
  props: Props,
  logicalId: string,
): Promise<ResourceValues> {
  const input = {
    UserPoolId: String(props.UserPoolId),
    GroupName: String(props.GroupName ?? logicalId),
    ...(props.Description !== undefined ? { Description: String(props.Description) } : {}),
    ...(props.Precedence !== undefined ? { Precedence: Number(props.Precedence) } : {}),
    ...(props.RoleArn !== undefined ? { RoleArn: String(props.RoleArn) } : {}),
  };
  try {
    await state.clients.cognito.send(new CreateGroupCommand(input));
  } catch (error) {
    // It exists (provisioned before): keep its members, give it the template's settings.
    if (!isAwsError(error, 'GroupExistsException')) throw error;
    await state.clients.cognito.send(new UpdateGroupCommand(input));
  }
  state.pools.get(input.UserPoolId)?.groups.push(input.GroupName);
  return { ref: input.GroupName, attributes: {} };
}

/** The local identity: the first user pool, its first client, its pre-token trigger and its groups. */
export function identityOf(state: ProvisionState): LocalIdentity | undefined {
  const [pool] = state.pools.values();
  if (!pool) return undefined;
  if (state.pools.size > 1)
    state.log(`Warning: ${state.pools.size} user pools; the local identity uses ${pool.id}`);
  const [client] = pool.clients;
  if (!client)
    throw new Error(`user pool ${pool.id} has no client the local runtime could sign users in with`);
  return {
    userPoolId: pool.id,
    userPoolClientId: client,
    ...(pool.preTokenGenerationLambda
      ? {
          preTokenGenerationFunctionKey: state.functionKey(
            pool.preTokenGenerationLambda,
            `user pool ${pool.id}`,
          ),
        }
      : {}),
    groups: pool.groups,
  };
}
