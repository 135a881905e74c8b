import type { EmulatorClients } from '../../../local/aws-clients';
import { checkApiKey } from '../../../local/gateway/api-keys';
import type { IncomingRequest } from '../../../local/gateway/request';
import type { LocalRoute } from '../../../local/model';
import { apiGatewayProvisioner } from '../../../local/provisioner/apigateway';
import type { Props, StackContext } from '../../../local/provisioner/state';
import { ProvisionState } from '../../../local/provisioner/state';

const FUNCTION = 'Shop-local-Orders-postorders';

/** The API Gateway resources of a service stack with one partner, provisioned as the local runtime does. */
function provisionPartnerStack(keyProps: Props = { Name: 'Shop-local-orders-acme', Enabled: true }) {
  const state = new ProvisionState(
    {
      assemblyDir: '/nowhere',
      emulator: {
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        accessKeyId: 'x',
        secretAccessKey: 'y',
      },
      accountId: '123456789012',
      apiBaseUrl: 'http://127.0.0.1:3000',
      requireAssets: false,
      log: () => undefined,
    },
    {} as EmulatorClients,
  );
  state.functionsByName.set(FUNCTION, 'Shop-local-Orders/PostOrders');
  const context = {
    stack: { name: 'Shop-local-Orders' },
    values: new Map(),
    local: [],
  } as unknown as StackContext;
  const provision = (logicalId: string, type: string, props: Props) => {
    const values = apiGatewayProvisioner.provision(state, {
      context,
      logicalId,
      resource: { Type: type, Properties: props },
      props,
      physicalName: `Shop-local-Orders-${logicalId}`,
    });
    context.values.set(logicalId, values as never);
    return (values as { ref: string }).ref;
  };
  const api = provision('Api', 'AWS::ApiGateway::RestApi', { Name: 'Shop-local-orders' });
  const resource = provision('Orders', 'AWS::ApiGateway::Resource', { RestApiId: api, PathPart: 'orders' });
  const stage = provision('Stage', 'AWS::ApiGateway::Stage', { RestApiId: api, StageName: 'v1' });
  const key = provision('Key', 'AWS::ApiGateway::ApiKey', keyProps);
  const plan = provision('Plan', 'AWS::ApiGateway::UsagePlan', { ApiStages: [{ ApiId: api, Stage: stage }] });
  provision('PlanKey', 'AWS::ApiGateway::UsagePlanKey', {
    KeyId: key,
    KeyType: 'API_KEY',
    UsagePlanId: plan,
  });
  const integration = {
    Type: 'AWS_PROXY',
    Uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}:live/invocations`,
  };
  for (const [id, method, required] of [
    ['Post', 'POST', true],
    ['Get', 'GET', undefined],
  ] as const) {
    provision(id, 'AWS::ApiGateway::Method', {
      RestApiId: api,
      ResourceId: resource,
      HttpMethod: method,
      AuthorizationType: 'NONE',
      Integration: integration,
      ...(required ? { ApiKeyRequired: true } : {}),
    });
  }
  apiGatewayProvisioner.afterStack!(state, context);
  return { state, key };
}

function request(headers: Record<string, string>): IncomingRequest {
  return { headers } as unknown as IncomingRequest;
}

describe('API keys in the local runtime', () => {
  it("gives a key-protected route the keys of the usage plans on its stage, a key's id being its value", () => {
    const { state, key } = provisionPartnerStack();
    expect(key).toBe('local-key-Shop-local-orders-acme');
    const post = state.routes.find((r) => r.method === 'POST')!;
    const get = state.routes.find((r) => r.method === 'GET')!;
    expect(post.apiKeys).toEqual(['local-key-Shop-local-orders-acme']);
    expect(get.apiKeys).toBeUndefined();
  });

  it('leaves out a disabled key', () => {
    const { state } = provisionPartnerStack({ Name: 'Shop-local-orders-acme', Enabled: false });
    expect(state.routes.find((r) => r.method === 'POST')!.apiKeys).toEqual([]);
  });

  it('answers 403 Forbidden (INVALID_API_KEY) without a known x-api-key, and passes a known one', () => {
    const route = { apiKeys: ['local-key-a'] } as unknown as LocalRoute;
    expect(checkApiKey(route, request({}))).toEqual({
      types: ['INVALID_API_KEY'],
      message: 'Forbidden',
      status: 403,
      reason: 'no x-api-key header',
    });
    expect(checkApiKey(route, request({ 'X-Api-Key': 'guess' }))?.reason).toBe(
      'x-api-key is no key of a usage plan on this stage',
    );
    expect(checkApiKey(route, request({ 'X-Api-Key': 'local-key-a' }))).toBeUndefined();
  });

  it('does not check keys on a route that requires none', () => {
    const route = {} as unknown as LocalRoute;
    expect(checkApiKey(route, request({}))).toBeUndefined();
  });
});
