import type { App } from 'aws-cdk-lib';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { z } from 'zod';
import type { MicroserviceProps, RouteProps, RouteScopes } from '../../lib';
import {
  AccessMode,
  DataProtection,
  HttpMethod,
  Microservice,
  Platform,
  PlatformReference,
  RequestSchema,
  ROUTE_SCOPES_METADATA,
  RouteAccess,
} from '../../lib';
import { appWithoutBundling, HEALTH_HANDLER } from '../helpers';
import { widgetsService } from './widgets-fixture';

const ROUTES: RouteProps[] = [
  {
    method: HttpMethod.GET,
    path: '/health',
    entry: HEALTH_HANDLER,
    access: RouteAccess.PUBLIC,
    throttle: { rateLimit: 5, burstLimit: 10 },
  },
  {
    method: HttpMethod.POST,
    path: '/widgets',
    entry: HEALTH_HANDLER,
    access: RouteAccess.scopes('widgets.write'),
    tableAccess: AccessMode.READ_WRITE,
    requestSchema: RequestSchema.fromZod(z.strictObject({ name: z.string().min(1) })),
  },
  {
    method: HttpMethod.GET,
    path: '/widgets/{id}',
    entry: HEALTH_HANDLER,
    access: RouteAccess.scopes('widgets.read'),
    tableAccess: AccessMode.READ,
  },
];

function build(overrides: Partial<MicroserviceProps> = {}) {
  const { stack, service } = widgetsService({ routes: ROUTES, ...overrides });
  return { stack, service, template: Template.fromStack(stack) };
}

function functionLogicalId(template: Template, description: string): string {
  const [id] = Object.entries(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
  )[0];
  return id;
}

function policyStatementsOf(template: Template, functionDescription: string): Array<Record<string, unknown>> {
  const fn = template.findResources('AWS::Lambda::Function', {
    Properties: { Description: functionDescription },
  });
  const roleId = (Object.values(fn)[0].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('Microservice', () => {
  describe('table (database per service)', () => {
    const { template } = build();

    it('is on-demand with point-in-time recovery and a customer-managed rotating key', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TableKey'), 'Arn'] },
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    });

    it('is retained with deletion protection by default', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      });
    });
  });

  it('lets dev environments delete the table with the stack', () => {
    const { template } = build({ dataProtection: DataProtection.DESTROY });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it('adds declared global secondary indexes', () => {
    build({
      globalSecondaryIndexes: [
        { indexName: 'byOwner', partitionKey: { name: 'ownerId', type: dynamodb.AttributeType.STRING } },
      ],
    }).template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byOwner',
          KeySchema: [{ AttributeName: 'ownerId', KeyType: 'HASH' }],
        }),
      ],
    });
  });

  describe('API', () => {
    const { template } = build();

    it('is a regional REST API whose stage traces, throttles and writes JSON access logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        Name: 'Shop-test-widgets',
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'v1',
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
          Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
        },
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 100,
            ThrottlingBurstLimit: 200,
            DataTraceEnabled: false,
            LoggingLevel: 'ERROR',
            MetricsEnabled: true,
          }),
          Match.objectLike({
            HttpMethod: 'GET',
            ResourcePath: '/~1health',
            ThrottlingRateLimit: 5,
            ThrottlingBurstLimit: 10,
          }),
        ]),
      });
    });

    it("sends access logs to the service's own log group", () => {
      const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];
      expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toMatch(
        /"Ref":"ServiceAccessLogs[0-9A-F]{8}"/,
      );
    });

    it('requires a Cognito access token with the route scope on protected routes', () => {
      template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        Type: 'COGNITO_USER_POOLS',
        IdentitySource: 'method.request.header.Authorization',
        ProviderARNs: [{ Ref: Match.stringLikeRegexp('SsmParameterValueShoptestplatformuserpoolarn') }],
      });
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizationScopes: [
          { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('resourceserverid') }, '/widgets.write']] },
        ],
      });
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'GET',
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizationScopes: [
          { 'Fn::Join': ['', [{ Ref: Match.stringLikeRegexp('resourceserverid') }, '/widgets.read']] },
        ],
        RequestParameters: { 'method.request.path.id': true },
      });
    });

    it('leaves only routes declared public open', () => {
      const open = template.findResources('AWS::ApiGateway::Method', {
        Properties: { AuthorizationType: 'NONE' },
      });
      expect(Object.keys(open)).toHaveLength(1);
      expect(Object.values(open)[0].Properties.HttpMethod).toBe('GET');
    });

    it('validates request bodies against the route schema at the gateway', () => {
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
        ValidateRequestParameters: true,
      });
      template.hasResourceProperties('AWS::ApiGateway::Model', {
        ContentType: 'application/json',
        Schema: {
          $schema: 'http://json-schema.org/draft-04/schema#',
          type: 'object',
          properties: { name: { type: 'string', minLength: 1 } },
          required: ['name'],
          additionalProperties: false,
        },
      });
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        RequestValidatorId: { Ref: Match.stringLikeRegexp('RequestValidator') },
        RequestModels: { 'application/json': { Ref: Match.stringLikeRegexp('Model') } },
      });
    });

    it('answers gateway errors with the same stable error shape as the handlers', () => {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'UNAUTHORIZED',
        StatusCode: '401',
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"UNAUTHORIZED"') },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_BODY',
        StatusCode: '400',
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"VALIDATION_FAILED"') },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        StatusCode: '404',
      });
    });

    it('is protected by the platform web ACL', () => {
      template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
        WebACLArn: { Ref: Match.stringLikeRegexp('SsmParameterValueShoptestplatformwebaclarn') },
      });
    });

    it('invokes the functions through their live alias', () => {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { Ref: Match.stringLikeRegexp('LiveAlias') },
      });
    });
  });

  describe('functions', () => {
    const { template } = build();

    it('creates one function per route with the table name and Powertools service name', () => {
      expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(3);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'widgets: POST /widgets',
        Environment: {
          Variables: Match.objectLike({
            TABLE_NAME: { Ref: Match.stringLikeRegexp('Table') },
            POWERTOOLS_SERVICE_NAME: 'widgets',
            POWERTOOLS_METRICS_NAMESPACE: 'Shop',
          }),
        },
      });
    });

    it('grants a read route read actions only', () => {
      const actions = policyStatementsOf(template, 'widgets: GET /widgets/{id}').flatMap(
        (s) => s.Action as string[],
      );
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:PutItem']));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
      expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:Scan']));
      expect(actions.some((a) => a.endsWith(':*') || a === '*')).toBe(false);
    });

    it('grants a write route write actions on its own table only', () => {
      const statements = policyStatementsOf(template, 'widgets: POST /widgets');
      const dynamo = statements.find((s) => (s.Action as string[]).includes('dynamodb:PutItem'));
      expect([dynamo?.Resource].flat()).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^ServiceTable/), 'Arn'] },
      ]);
    });

    it('gives the public health route no table access', () => {
      const actions = policyStatementsOf(template, 'widgets: GET /health').flatMap(
        (s) => [s.Action].flat() as string[],
      );
      expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    });

    it('names the functions after their routes (stable construct ids)', () => {
      expect(functionLogicalId(template, 'widgets: GET /widgets/{id}')).toMatch(/^Servicegetwidgetsid/);
    });
  });

  it('publishes its API URL, table and functions in the registry and Cloud Map', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/Shop/test/widgets/api-url' });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/table-name',
      Value: { Ref: Match.stringLikeRegexp('Table') },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/function/post-widgets',
    });
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'widgets',
      NamespaceId: { Ref: Match.stringLikeRegexp('SsmParameterValueShoptestplatformnamespaceid') },
    });
    template.hasResourceProperties('AWS::ServiceDiscovery::Instance', {
      InstanceAttributes: Match.objectLike({ 'table-name': { Ref: Match.stringLikeRegexp('Table') } }),
    });
  });

  describe('capacity knobs', () => {
    it('gives a route reserved concurrency (bulkhead) and provisioned concurrency on its live alias', () => {
      const { template } = build({
        routes: [ROUTES[0], { ...ROUTES[1], reservedConcurrency: 50, provisionedConcurrency: 10 }],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'widgets: POST /widgets',
        ReservedConcurrentExecutions: 50,
      });
      template.hasResourceProperties('AWS::Lambda::Alias', {
        Name: 'live',
        ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 10 },
      });
      // The other route keeps on-demand scaling and the shared pool.
      expect(
        template.findResources('AWS::Lambda::Alias', {
          Properties: { ProvisionedConcurrencyConfig: Match.absent() },
        }),
      ).not.toEqual({});
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'widgets: GET /health',
        ReservedConcurrentExecutions: Match.absent(),
      });
    });

    it('sets warm throughput and ceilings on the on-demand table', () => {
      const { template } = build({
        tableThroughput: {
          warmReadUnitsPerSecond: 30000,
          warmWriteUnitsPerSecond: 12000,
          maxReadRequestUnits: 50000,
          maxWriteRequestUnits: 20000,
        },
      });
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        WarmThroughput: { ReadUnitsPerSecond: 30000, WriteUnitsPerSecond: 12000 },
        OnDemandThroughput: { MaxReadRequestUnits: 50000, MaxWriteRequestUnits: 20000 },
      });
    });

    it('names the bad knob and value', () => {
      expect(() => build({ routes: [{ ...ROUTES[0], reservedConcurrency: -1 }] })).toThrow(
        /Microservice: invalid routes\[0\]\.reservedConcurrency "?-1"?/,
      );
      expect(() => build({ routes: [{ ...ROUTES[0], provisionedConcurrency: 0 }] })).toThrow(
        /Microservice: invalid routes\[0\]\.provisionedConcurrency "?0"?/,
      );
      expect(() => build({ tableThroughput: { warmWriteUnitsPerSecond: 1.5 } })).toThrow(
        /Microservice: invalid tableThroughput\.warmWriteUnitsPerSecond "?1\.5"?/,
      );
      expect(() =>
        build({ routes: [{ ...ROUTES[0], reservedConcurrency: 5, provisionedConcurrency: 10 }] }),
      ).toThrow(
        /ServiceFunction: invalid provisionedConcurrency "?10"?: must not exceed reservedConcurrentExecutions \(5\)/,
      );
    });
  });

  describe('invalid props', () => {
    it('fails when the service name is not lowercase', () => {
      expect(() => build({ serviceName: 'Widgets' })).toThrow(/Microservice: invalid serviceName "Widgets"/);
    });

    it('fails when the service is named like the platform registry', () => {
      expect(() => build({ serviceName: 'platform' })).toThrow(/invalid serviceName "platform": is reserved/);
    });

    it('fails when the stage name has characters API Gateway refuses', () => {
      expect(() => build({ stageName: 'v1/beta' })).toThrow(/Microservice: invalid stageName "v1\/beta"/);
    });

    it('fails when there are no routes', () => {
      expect(() => build({ routes: [] })).toThrow(
        /Microservice: invalid routes \[\]: declare at least one route/,
      );
    });

    it('fails when a route path does not start with a slash', () => {
      expect(() => build({ routes: [{ ...ROUTES[0], path: 'health' }] })).toThrow(
        /invalid routes\[0\]\.path "health"/,
      );
    });

    it('fails when the same method and path are declared twice', () => {
      expect(() => build({ routes: [ROUTES[1], ROUTES[1]] })).toThrow(
        /invalid routes\[1\] "POST \/widgets": is declared twice in service "widgets" \(also route "post-widgets"\); API Gateway allows one method per path/,
      );
    });

    it('fails when a route timeout exceeds the 29 second API Gateway limit', () => {
      expect(() => build({ routes: [{ ...ROUTES[1], timeout: Duration.seconds(30) }] })).toThrow(
        /invalid routes\[0\]\.timeout "30s": API Gateway integrations time out after 29 seconds/,
      );
    });

    it('fails when a protected route names no scope', () => {
      expect(() => RouteAccess.scopes()).toThrow(/RouteAccess: invalid scopes \[\]/);
    });

    it('fails when the stage burst limit is not a whole number', () => {
      expect(() => build({ throttle: { rateLimit: 10, burstLimit: 0.5 } })).toThrow(
        /invalid throttle\.burstLimit 0.5/,
      );
    });
  });

  describe('route model (what API Gateway only rejects at deploy time)', () => {
    const route = (method: HttpMethod, path: string): RouteProps => ({
      method,
      path,
      entry: HEALTH_HANDLER,
      access: RouteAccess.scopes('widgets.read'),
    });

    it('fails when sibling path parameters have different names, naming the service, both paths and both names', () => {
      expect(() =>
        build({
          serviceName: 'payments',
          routes: [
            route(HttpMethod.GET, '/payments/{id}'),
            route(HttpMethod.POST, '/payments/{paymentId}/refunds'),
          ],
        }),
      ).toThrow(
        /Microservice: invalid routes\[1\]\.path "\/payments\/\{paymentId\}\/refunds": service "payments": its path parameter \{paymentId\} is a sibling of \{id\} in routes\[0\]\.path "\/payments\/\{id\}"; API Gateway allows one variable path part per level/,
      );
    });

    it('fails when the same path is declared twice under different parameter names', () => {
      expect(() =>
        build({
          routes: [route(HttpMethod.GET, '/widgets/{id}'), route(HttpMethod.PUT, '/widgets/{widgetId}')],
        }),
      ).toThrow(/invalid routes\[1\]\.path "\/widgets\/\{widgetId\}": .*\{widgetId\} is a sibling of \{id\}/);
    });

    it('accepts nested routes that reuse the parameter name, and literal siblings of a parameter', () => {
      const { template } = build({
        routes: [
          route(HttpMethod.GET, '/widgets/{id}'),
          route(HttpMethod.POST, '/widgets/{id}/parts'),
          route(HttpMethod.GET, '/widgets/{id}/parts/{partId}'),
          route(HttpMethod.GET, '/widgets/search'),
        ],
      });
      template.resourceCountIs('AWS::ApiGateway::Method', 4);
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{partId}' });
    });

    it('fails on a greedy path variable such as {proxy+}', () => {
      expect(() => build({ routes: [route(HttpMethod.GET, '/files/{proxy+}')] })).toThrow(
        /Microservice: invalid routes\[0\]\.path "\/files\/\{proxy\+\}": greedy path variables such as \{proxy\+\} are not supported/,
      );
    });
  });

  describe('route scopes and the platform', () => {
    const WIDGET_SCOPES = [{ name: 'widgets.read', description: 'read' }];

    it('fails at construction when a route scope is not declared by the Platform it attaches to', () => {
      const stack = new Stack(appWithoutBundling(), 'Shop-test-All');
      const platform = new Platform(stack, 'Platform', {
        appName: 'Shop',
        envName: 'test',
        scopes: WIDGET_SCOPES,
      });
      expect(
        () =>
          new Microservice(stack, 'Service', {
            serviceName: 'widgets',
            platform,
            partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
            routes: ROUTES,
          }),
      ).toThrow(
        /Microservice: invalid routes\[1\]\.access "widgets.write": POST \/widgets of service "widgets" requires a scope that platform Shop\/test does not declare \(declared: widgets.read\)/,
      );
    });

    it('fails synth when a service attached by name uses a scope the Platform of the same app does not declare', () => {
      const app = appWithoutBundling();
      new Platform(new Stack(app, 'Shop-test-Platform'), 'Platform', {
        appName: 'Shop',
        envName: 'test',
        scopes: WIDGET_SCOPES,
      });
      const stack = new Stack(app, 'Shop-test-Widgets');
      new Microservice(stack, 'Service', {
        serviceName: 'widgets',
        platform: PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'test' }),
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        routes: ROUTES,
      });
      expect(() => app.synth()).toThrow(
        /invalid routes\[1\]\.access "widgets.write": POST \/widgets of service "widgets" requires a scope that platform Shop\/test does not declare \(declared: widgets.read\)/,
      );
    });

    it("does not check against a platform of another environment in the same app (nothing is known of the named one's scopes)", () => {
      const app = appWithoutBundling();
      new Platform(new Stack(app, 'Shop-prod-Platform'), 'Platform', {
        appName: 'Shop',
        envName: 'prod',
        scopes: WIDGET_SCOPES,
      });
      const stack = new Stack(app, 'Shop-test-Widgets');
      new Microservice(stack, 'Service', {
        serviceName: 'widgets',
        platform: PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'test' }),
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        routes: ROUTES,
      });
      expect(() => app.synth()).not.toThrow();
    });

    it('records the scopes its routes require in the cloud assembly, for the local runtime and check', () => {
      const { stack } = build();
      const artifact = (stack.node.root as App).synth().getStackByName(stack.stackName);
      const entries = artifact.findMetadataByType(ROUTE_SCOPES_METADATA);
      expect(entries.map((entry) => entry.path)).toEqual([`/${stack.stackName}/Service`]);
      const recorded = entries[0].data as unknown as RouteScopes;
      expect(recorded).toEqual({
        appName: 'Shop',
        envName: 'test',
        serviceName: 'widgets',
        scopes: ['widgets.read', 'widgets.write'],
        routes: [
          { method: 'POST', path: '/widgets', scopes: ['widgets.write'] },
          { method: 'GET', path: '/widgets/{id}', scopes: ['widgets.read'] },
        ],
      });
    });
  });
});
