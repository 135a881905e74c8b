/**
 * API Gateway REST APIs: nothing is created in the emulator. Once a stack is resolved, its methods become the
 * local gateway's routes (path, authorization, function, required parameters, body schema, stage) and its
 * gateway responses the local error templates; API URLs in the templates point at the local gateway.
 */
import type { ResourceValues } from '../intrinsics';
import type { RouteAuthorization } from '../model';
import type { Props, ProvisionState, ResourceProvisioner, StackContext } from './state';

/** Provisions the `AWS::ApiGateway::*` types the local gateway serves (Lambda proxy integrations). */
export const apiGatewayProvisioner: ResourceProvisioner = {
  types: [
    'AWS::ApiGateway::RestApi',
    'AWS::ApiGateway::Resource',
    'AWS::ApiGateway::Method',
    'AWS::ApiGateway::Model',
    'AWS::ApiGateway::RequestValidator',
    'AWS::ApiGateway::Authorizer',
    'AWS::ApiGateway::GatewayResponse',
    'AWS::ApiGateway::Deployment',
    'AWS::ApiGateway::Stage',
    'AWS::ApiGateway::ApiKey',
    'AWS::ApiGateway::UsagePlan',
    'AWS::ApiGateway::UsagePlanKey',
  ],
  provision: (state, { context, logicalId, resource, props }): ResourceValues => {
    switch (resource.Type) {
      case 'AWS::ApiGateway::RestApi': {
        const service = serviceOfApi(String(props.Name ?? logicalId));
        state.restApis.add(service);
        return { ref: service, attributes: { RootResourceId: `${service}/`, RestApiId: service } };
      }
      case 'AWS::ApiGateway::Stage':
        context.local.push({ logicalId, type: resource.Type, props });
        return { ref: String(props.StageName), attributes: {} };
      case 'AWS::ApiGateway::ApiKey': {
        // API Gateway generates a key's value; locally the key's id is its value, so the registry entry of a
        // partner's key id (`partner/{name}/api-key-id`) is the key to send in `x-api-key`.
        const value = String(props.Value ?? `local-key-${String(props.Name ?? logicalId)}`);
        context.local.push({ logicalId, type: resource.Type, props });
        return { ref: value, attributes: { APIKeyId: value } };
      }
      case 'AWS::ApiGateway::Model':
        context.local.push({ logicalId, type: resource.Type, props });
        return { ref: String(props.Name ?? logicalId), attributes: {} };
      default:
        context.local.push({ logicalId, type: resource.Type, props });
        return {
          ref: `${context.stack.name}/${logicalId}`,
          attributes: { ResourceId: `${context.stack.name}/${logicalId}` },
        };
    }
  },
  afterStack: collectApis,
};

/** Routes and gateway responses of the stack's REST APIs (once the whole stack is resolved). */
function collectApis(state: ProvisionState, context: StackContext): void {
  const byType = (type: string) => context.local.filter((entry) => entry.type === type);
  const refOf = (logicalId: string) => context.values.get(logicalId)?.ref ?? '';
  const byRef = (type: string) => new Map(byType(type).map((entry) => [refOf(entry.logicalId), entry.props]));
  const resources = byRef('AWS::ApiGateway::Resource');
  const authorizers = byRef('AWS::ApiGateway::Authorizer');
  const validators = byRef('AWS::ApiGateway::RequestValidator');
  const models = new Map(
    byType('AWS::ApiGateway::Model').map((entry) => [
      `${String(entry.props.RestApiId)}/${refOf(entry.logicalId)}`,
      entry.props,
    ]),
  );
  const stages = new Map<string, string>();
  for (const { props } of byType('AWS::ApiGateway::Deployment')) {
    if (props.StageName) stages.set(String(props.RestApiId), String(props.StageName));
  }
  for (const { props } of byType('AWS::ApiGateway::Stage'))
    stages.set(String(props.RestApiId), String(props.StageName));
  const apiKeys = apiKeysByService(
    byRef('AWS::ApiGateway::ApiKey'),
    byRef('AWS::ApiGateway::UsagePlan'),
    byType,
  );

  const pathOf = (resourceId: string, guard = 0): string => {
    const resource = resources.get(resourceId);
    if (!resource) return ''; // the root resource
    if (guard > 50) throw new Error(`resource path of ${resourceId} loops`);
    return `${pathOf(String(resource.ParentId), guard + 1)}/${String(resource.PathPart)}`;
  };

  for (const { logicalId, props } of byType('AWS::ApiGateway::Method')) {
    const where = `${context.stack.name}/${logicalId}`;
    const service = String(props.RestApiId);
    const integration = (props.Integration ?? {}) as { Type?: string; Uri?: string };
    if (integration.Type !== 'AWS_PROXY' || !integration.Uri) {
      throw new Error(
        `${context.stack.name}: method ${logicalId} has a ${integration.Type ?? 'missing'} integration; ` +
          'the local gateway emulates Lambda proxy integrations only',
      );
    }
    const target = /\/functions\/(.+)\/invocations$/.exec(integration.Uri)?.[1];
    if (!target)
      throw new Error(`${context.stack.name}: method ${logicalId} has no Lambda in ${integration.Uri}`);
    const modelRef = (props.RequestModels as Record<string, string> | undefined)?.['application/json'];
    const schema = modelRef ? models.get(`${service}/${modelRef}`)?.Schema : undefined;
    const validator = props.RequestValidatorId ? validators.get(String(props.RequestValidatorId)) : undefined;
    state.routes.push({
      service,
      method: String(props.HttpMethod).toUpperCase(),
      resourcePath: pathOf(String(props.ResourceId)) || '/',
      authorization: authorization(props, authorizers, where),
      functionKey: state.functionKey(target, where),
      invokedArn: state.functionArn(target),
      requiredParameters: Object.entries(
        (props.RequestParameters as Record<string, unknown> | undefined) ?? {},
      )
        .filter(([, required]) => required === true || required === 'true')
        .map(([name]) => name),
      ...(schema ? { requestSchema: schema as Record<string, unknown> } : {}),
      validateBody: validator?.ValidateRequestBody === true || validator?.ValidateRequestBody === 'true',
      stage: stages.get(service) ?? 'prod',
      ...(props.ApiKeyRequired === true || props.ApiKeyRequired === 'true'
        ? { apiKeys: apiKeys.get(service) ?? [] }
        : {}),
    });
  }

  for (const { props } of byType('AWS::ApiGateway::GatewayResponse')) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(
      (props.ResponseParameters as Record<string, string> | undefined) ?? {},
    )) {
      const header = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
      if (header) headers[header] = String(value).replace(/^'(.*)'$/, '$1');
    }
    const template = (props.ResponseTemplates as Record<string, string> | undefined)?.['application/json'];
    state.gatewayResponses.push({
      service: String(props.RestApiId),
      type: String(props.ResponseType),
      ...(props.StatusCode !== undefined ? { statusCode: Number(props.StatusCode) } : {}),
      headers,
      ...(template !== undefined ? { template } : {}),
    });
  }
}

/** The enabled API keys of the usage plans on each service's stage (UsagePlanKey → UsagePlan → ApiStages). */
function apiKeysByService(
  keys: Map<string, Props>,
  plans: Map<string, Props>,
  byType: (type: string) => Array<{ props: Props }>,
): Map<string, string[]> {
  const byService = new Map<string, string[]>();
  for (const { props } of byType('AWS::ApiGateway::UsagePlanKey')) {
    const keyId = String(props.KeyId);
    const key = keys.get(keyId);
    if (key && (key.Enabled === false || key.Enabled === 'false')) continue;
    const stages = (plans.get(String(props.UsagePlanId))?.ApiStages as Array<{ ApiId?: unknown }>) ?? [];
    for (const stage of stages) {
      const service = String(stage.ApiId);
      byService.set(service, [...(byService.get(service) ?? []), keyId]);
    }
  }
  return byService;
}

function authorization(props: Props, authorizers: Map<string, Props>, where: string): RouteAuthorization {
  const type = String(props.AuthorizationType ?? 'NONE');
  if (type === 'NONE' || type === 'AWS_IAM') return { type };
  if (type !== 'COGNITO_USER_POOLS') {
    throw new Error(
      `${where}: authorization ${type} is not emulated (NONE, AWS_IAM, COGNITO_USER_POOLS are)`,
    );
  }
  const authorizer = authorizers.get(String(props.AuthorizerId));
  const providerArn = (authorizer?.ProviderARNs as string[] | undefined)?.[0];
  const userPoolId = providerArn ? /userpool\/(.+)$/.exec(providerArn)?.[1] : undefined;
  if (!userPoolId) throw new Error(`${where}: Cognito authorizer without a user pool ARN (${providerArn})`);
  return {
    type,
    userPoolId,
    scopes: ((props.AuthorizationScopes as unknown[] | undefined) ?? []).map(String),
  };
}

/**
 * `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...` of a REST API of the assembly →
 * `{apiBaseUrl}/{service}/...`; any other value unchanged.
 */
export function localApiUrl(state: ProvisionState, value: string): string {
  const match = /^https:\/\/([^./]+)\.execute-api\.[^./]+\.amazonaws\.com(?:\.cn)?\/[^/]+\/(.*)$/.exec(value);
  if (!match || !state.restApis.has(match[1])) return value;
  return `${state.settings.apiBaseUrl}/${match[1]}/${match[2]}`;
}

/** `Shop-local-orders` → `orders`: the first word after `{app}-{env}-` of a REST API's name. */
export function serviceOfApi(name: string): string {
  const parts = name.split('-');
  return (parts.length >= 3 ? parts[2] : parts[parts.length - 1]).toLowerCase();
}
