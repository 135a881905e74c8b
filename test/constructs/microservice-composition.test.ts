import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IMicroservice, MicroserviceProps } from '../../lib';
import {
  addSecurityChecks,
  HttpMethod,
  Microservice,
  RouteAccess,
  ServiceApi,
  ServiceCall,
  ServiceFunction,
  ServiceTable,
} from '../../lib';
import { OrderPlaced } from '../../functions/contracts/events';
import { HEALTH_HANDLER, serviceStack } from '../helpers';
import {
  executeApiArn,
  HEALTH,
  READ_ACTIONS,
  roleLogicalId,
  statementsOfRole,
  widgetsService,
  WRITE,
  WRITE_ACTIONS,
} from './widgets-fixture';

const ACCOUNT_ROLE = 'arn:aws:iam::111111111111:role/reporting';

describe('Microservice composition', () => {
  it('is made of a ServiceTable, a ServiceApi and one ServiceFunction per route', () => {
    const { service: svc } = widgetsService({ routes: [HEALTH, WRITE] });
    expect(svc.table).toBeInstanceOf(ServiceTable);
    expect(svc.api).toBeInstanceOf(ServiceApi);
    expect(Object.keys(svc.functions)).toEqual(['get-health', 'post-widgets']);
    expect(svc.functions['post-widgets']).toBeInstanceOf(ServiceFunction);
    expect(svc.authorizer).toBeDefined();
  });

  it('has no Cognito authorizer while every route is public', () => {
    const { stack, service: svc } = widgetsService({ routes: [HEALTH] });
    expect(svc.authorizer).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });
});

describe('Microservice.addRoute', () => {
  it('adds a route after construction, with its function, method, authorizer, throttle and registry entry', () => {
    const { stack, service: svc } = widgetsService({ routes: [HEALTH] });
    const fn = svc.addRoute({ ...WRITE, throttle: { rateLimit: 7, burstLimit: 14 } });
    expect(fn).toBe(svc.functions['post-widgets']);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'widgets: POST /widgets' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      OperationName: 'post-widgets',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizationScopes: [{ 'Fn::Join': ['', Match.arrayWith(['/widgets.write'])] }],
      AuthorizerId: { Ref: Match.stringLikeRegexp('^ServiceAuthorizer') },
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1widgets',
          ThrottlingRateLimit: 7,
          ThrottlingBurstLimit: 14,
        }),
      ]),
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/function/post-widgets',
      Value: { Ref: Match.stringLikeRegexp('^ServicepostwidgetsFunction') },
    });
    // The added route's function reads and writes the table.
    const actions = statementsOfRole(template, roleLogicalId(stack, fn.role as iam.Role)).flatMap(
      (s) => s.Action,
    );
    expect(actions).toEqual(expect.arrayContaining([...READ_ACTIONS, ...WRITE_ACTIONS]));
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('builds a service whose routes all come from addRoute', () => {
    const { stack, service: svc } = widgetsService();
    svc.addRoute(HEALTH);
    svc.addRoute(WRITE);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'NONE',
    });
  });

  it('fails at synth when the service ends up with no route, saying how to add one', () => {
    const { app } = widgetsService();
    expect(() => app.synth()).toThrow(
      /invalid routes \[\]: service "widgets" has no route: declare routes or call addRoute/,
    );
  });

  it('fails when an added route repeats a method and path, naming the call', () => {
    const { service: svc } = widgetsService({ routes: [HEALTH] });
    expect(() => svc.addRoute(HEALTH)).toThrow(
      /Microservice: invalid addRoute\(GET \/health\) "GET \/health": is declared twice in service "widgets" \(also route "get-health"\)/,
    );
  });

  it('fails when routes is an empty array, pointing at addRoute', () => {
    expect(() => widgetsService({ routes: [] })).toThrow(
      /invalid routes \[\]: declare at least one route \(or omit routes and use addRoute\)/,
    );
  });
});

describe('Microservice.addSubscription', () => {
  it('adds a consumer after construction, with its queue, rule and table access', () => {
    const { stack, service: svc } = widgetsService({ routes: [HEALTH] });
    const subscription = svc.addSubscription('on-order-placed', {
      events: [OrderPlaced],
      entry: HEALTH_HANDLER,
    });
    expect(svc.subscriptions['on-order-placed']).toBe(subscription);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['shop.orders'], 'detail-type': ['OrderPlaced'] }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/function/on-order-placed',
    });
    const role = subscription.consumer.role as iam.Role;
    const actions = statementsOfRole(template, roleLogicalId(stack, role)).flatMap((s) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(WRITE_ACTIONS));
  });

  it('fails when an added subscription reuses a route id, naming the call', () => {
    const { service: svc } = widgetsService({ routes: [HEALTH] });
    expect(() => svc.addSubscription('get-health', { events: [OrderPlaced], entry: HEALTH_HANDLER })).toThrow(
      /Microservice: invalid addSubscription\(get-health\)\.id "get-health": is used by another route or subscription/,
    );
  });
});

describe('Microservice grants', () => {
  it('grants a role outside the service narrowed reads of its table, returning an iam.Grant', () => {
    const { stack, service: svc } = widgetsService({ routes: [HEALTH] });
    const reporting = new iam.Role(stack, 'Reporting', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const grant = svc.table.grantReadData(reporting);
    expect(grant).toBeInstanceOf(iam.Grant);
    expect(grant.success).toBe(true);
    const statements = statementsOfRole(Template.fromStack(stack), roleLogicalId(stack, reporting));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: [...READ_ACTIONS].sort(),
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ServiceTable/), 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ServiceTableKey/), 'Arn'] },
      },
    ]);
    expect(statements.flatMap((s) => s.Action)).not.toContain('dynamodb:Scan');
  });

  it('narrows grantReadWriteData and tableGrants.readWriteData to item writes, with the key', () => {
    const { stack, service: svc } = widgetsService({ routes: [HEALTH] });
    const writer = new iam.Role(stack, 'Writer', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const grant = svc.tableGrants.readWriteData(writer);
    expect(grant.success).toBe(true);
    const actions = statementsOfRole(Template.fromStack(stack), roleLogicalId(stack, writer)).flatMap(
      (s) => s.Action,
    );
    expect(actions).toEqual(
      expect.arrayContaining([...READ_ACTIONS, ...WRITE_ACTIONS, 'kms:Decrypt', 'kms:Encrypt']),
    );
    expect(actions).not.toEqual(expect.arrayContaining(['dynamodb:Scan']));
    const dynamodbActions = (actions as string[]).filter((a) => a.startsWith('dynamodb:'));
    expect(dynamodbActions.sort()).toEqual([...READ_ACTIONS, ...WRITE_ACTIONS].sort());
  });

  it('grants invoke on one route of its own API, any stage, as an iam.Grant', () => {
    const { stack, service: svc } = widgetsService({
      routes: [HEALTH, { ...WRITE, access: RouteAccess.IAM }],
    });
    const caller = new iam.Role(stack, 'Caller', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    expect(svc.grantInvoke(caller, HttpMethod.POST, '/widgets')).toBeInstanceOf(iam.Grant);
    const [statement] = statementsOfRole(Template.fromStack(stack), roleLogicalId(stack, caller));
    expect(statement).toEqual({
      Effect: 'Allow',
      Action: 'execute-api:Invoke',
      Resource: executeApiArn(expect.stringMatching(/^ServiceApi/), '/*/POST/widgets'),
    });
  });
});

describe('Microservice.fromRegistry', () => {
  it("reads the service's API from the registry and grants invoke on a route, path parameters as *", () => {
    const stack = new Stack(undefined, 'Reporting');
    const widgets = Microservice.fromRegistry(stack, 'Widgets', {
      appName: 'Shop',
      envName: 'test',
      serviceName: 'widgets',
    });
    const role = iam.Role.fromRoleArn(stack, 'Caller', ACCOUNT_ROLE, { mutable: true });
    const grant = widgets.grantInvoke(role, HttpMethod.GET, '/widgets/{id}');
    expect(grant.success).toBe(true);
    expect(widgets.eventSource).toBe('shop.widgets');
    new CfnOutput(stack, 'WidgetsUrl', { value: widgets.apiUrl });
    expect(widgets.node.path).toBe('Reporting/Widgets');
    const template = Template.fromStack(stack);
    // Only the entries used are read (no table name or ARN parameters).
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    expect(Object.values(parameters).filter((p) => p.Default.startsWith('/Shop/'))).toEqual([
      { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/Shop/test/widgets/api-id' },
      { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/Shop/test/widgets/api-url' },
    ]);
    template.hasOutput('WidgetsUrl', {
      Value: { Ref: Match.stringLikeRegexp('^SsmParameterValueShoptestwidgetsapiurl') },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'execute-api:Invoke',
            Resource: executeApiArn(
              Match.stringLikeRegexp('^SsmParameterValueShoptestwidgetsapiid'),
              '/*/GET/widgets/*',
            ),
          },
        ],
      },
    });
  });

  it("passes the security checks: the route ARN's wildcards are acknowledged on the grantee, by that ARN", () => {
    const appWith = (grant: (role: iam.Role, orders: IMicroservice) => void) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Reporting');
      const job = new iam.Role(stack, 'Job', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      grant(
        job,
        Microservice.fromRegistry(stack, 'Orders', {
          appName: 'Shop',
          envName: 'test',
          serviceName: 'orders',
        }),
      );
      addSecurityChecks(app);
      return app;
    };
    expect(() =>
      appWith((job, orders) => orders.grantInvoke(job, HttpMethod.GET, '/orders/{id}')).synth(),
    ).not.toThrow();
    // The same permission added by hand is a finding, so the check above can fail.
    const byHand = appWith((job, orders) =>
      job.addToPolicy(
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: [orders.routeArn(HttpMethod.GET, '/orders/{id}')],
        }),
      ),
    );
    expect(() => byHand.synth()).toThrow(/AwsSolutions-IAM5/);
  });

  it('fails on a service name the registry cannot hold', () => {
    const stack = new Stack(undefined, 'Reporting');
    expect(() =>
      Microservice.fromRegistry(stack, 'Widgets', {
        appName: 'Shop',
        envName: 'test',
        serviceName: 'Widgets!',
      }),
    ).toThrow(/Microservice\.fromRegistry: invalid serviceName "Widgets!"/);
  });

  it('is what a route calling another service is granted against', () => {
    const { stack } = widgetsService({
      routes: [{ ...HEALTH, calls: [ServiceCall.to('users', HttpMethod.GET, '/users/*')] }],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  { Ref: Match.stringLikeRegexp('^SsmParameterValueShoptestusersapiid') },
                  '/*/GET/users/*',
                ]),
              ],
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          USERS_API_URL: { Ref: Match.stringLikeRegexp('^SsmParameterValueShoptestusersapiurl') },
        }),
      },
    });
  });
});

describe('Microservice with an existing table', () => {
  function withExistingTable(extra: Partial<MicroserviceProps> = {}) {
    const { stack, platform } = serviceStack();
    const key = kms.Key.fromKeyArn(stack, 'LegacyKey', 'arn:aws:kms:eu-west-1:111111111111:key/legacy');
    const table = dynamodb.Table.fromTableAttributes(stack, 'Legacy', {
      tableName: 'legacy-widgets',
      encryptionKey: key,
    });
    const svc = new Microservice(stack, 'Service', {
      serviceName: 'widgets',
      platform,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      routes: [HEALTH, WRITE],
      table,
      ...extra,
    });
    return { stack, service: svc, table, key };
  }

  it('creates no table and no key, and grants the routes on the existing table and its key', () => {
    const { stack, service: svc, table, key } = withExistingTable();
    expect(svc.table).toBe(table);
    expect(svc.encryptionKey).toBe(key);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'widgets: POST /widgets',
      Environment: { Variables: Match.objectLike({ TABLE_NAME: 'legacy-widgets' }) },
    });
    const role = svc.functions['post-widgets'].role as iam.Role;
    const statements = statementsOfRole(template, roleLogicalId(stack, role));
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: [...READ_ACTIONS, ...WRITE_ACTIONS].sort(),
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':dynamodb:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':table/legacy-widgets',
              ],
            ],
          },
        }),
        expect.objectContaining({
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
          Resource: 'arn:aws:kms:eu-west-1:111111111111:key/legacy',
        }),
      ]),
    );
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/widgets/table-name',
      Value: 'legacy-widgets',
    });
  });

  it.each<[string, Partial<MicroserviceProps>]>([
    ['tableProps', { tableProps: { tableClass: dynamodb.TableClass.STANDARD } }],
    ['timeToLiveAttribute', { timeToLiveAttribute: 'ttl' }],
    [
      'globalSecondaryIndexes',
      {
        globalSecondaryIndexes: [
          { indexName: 'byName', partitionKey: { name: 'n', type: dynamodb.AttributeType.STRING } },
        ],
      },
    ],
  ])('fails when %s configures a table it does not create', (prop, extra) => {
    expect(() => withExistingTable(extra)).toThrow(
      new RegExp(
        `Microservice: invalid ${prop} .*configures a table the service creates; it cannot be combined with an existing table \\(table\\)`,
      ),
    );
  });
});
