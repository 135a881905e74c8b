import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import {
  OrderCancelled,
  OrderPlaced,
  StockReserved,
  type EventContract,
} from '../../functions/contracts/events';
import type { MicroserviceProps } from '../../lib';
import { AccessMode, HttpMethod, Microservice, PlatformReference, RouteAccess, ServiceCall } from '../../lib';
import { addSecurityChecks } from '../../lib/stacks/shop-system';
import { HEALTH_HANDLER, serviceStack } from '../helpers';

function build(overrides: Partial<MicroserviceProps> = {}) {
  const { app, stack, platform } = serviceStack('Shop-test-Orders');
  const service = new Microservice(stack, 'Service', {
    serviceName: 'orders',
    platform,
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [
      { indexName: 'byCustomer', partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING } },
    ],
    publishes: [OrderPlaced],
    subscriptions: [
      {
        id: 'stock-results',
        events: [StockReserved],
        entry: HEALTH_HANDLER,
        maxConcurrency: 3,
      },
    ],
    routes: [
      {
        method: HttpMethod.POST,
        path: '/orders',
        entry: HEALTH_HANDLER,
        access: RouteAccess.scopes('orders.write'),
        tableAccess: AccessMode.READ_WRITE,
        calls: [ServiceCall.to('users', HttpMethod.GET, '/customers/*')],
      },
      {
        method: HttpMethod.GET,
        path: '/internal/orders/{id}',
        entry: HEALTH_HANDLER,
        access: RouteAccess.IAM,
        tableAccess: AccessMode.READ,
        requiredQueryParameters: ['expand'],
      },
    ],
    ...overrides,
  });
  return { app, stack, service, template: Template.fromStack(stack) };
}

describe('Microservice events and calls', () => {
  const { template } = build();

  it('streams new images and expires outbox items when it publishes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::Pipes::Pipe', {
      TargetParameters: Match.objectLike({
        EventBridgeEventBusParameters: Match.objectLike({ Source: 'shop.orders' }),
      }),
    });
  });

  it('tells every function where its table is and what its event source is', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'orders: POST /orders',
      Environment: {
        Variables: Match.objectLike({
          TABLE_PARTITION_KEY: 'pk',
          EVENT_SOURCE: 'shop.orders',
          USERS_API_URL: { Ref: Match.stringLikeRegexp('SsmParameterValueShoptestusersapiurl') },
        }),
      },
    });
  });

  it('lets a calling route invoke exactly the called route of the other API', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([
                  { Ref: Match.stringLikeRegexp('SsmParameterValueShoptestusersapiid') },
                  '/*/GET/customers/*',
                ]),
              ],
            },
          }),
        ]),
      },
    });
  });

  it('protects IAM routes with SigV4 authorization and requires declared query parameters', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'AWS_IAM',
      RequestParameters: { 'method.request.path.id': true, 'method.request.querystring.expand': true },
    });
  });

  it('creates one subscription per declared consumer, with its bulkhead', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['shop.inventory'], 'detail-type': ['StockReserved'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/Shop/test/orders/function/stock-results',
    });
  });

  it('passes the cdk-nag packs with indexes, a publisher, a consumer and a cross-service call', () => {
    const { app } = build();
    addSecurityChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('fails when a publishing service expires items under another attribute', () => {
    expect(() => build({ timeToLiveAttribute: 'ttl' })).toThrow(
      /Microservice: invalid timeToLiveAttribute "ttl": publishing services expire outbox items with "expiresAt"/,
    );
  });

  it("fails when a published contract is another service's (its producer is not this service)", () => {
    expect(() => build({ publishes: [OrderPlaced, StockReserved] })).toThrow(
      /Microservice: invalid publishes\[1\]\.producer "inventory": the StockReserved contract is produced by "inventory"; service "orders" may publish only contracts whose producer is "orders"/,
    );
  });

  it('fails when a published contract has a type that is not PascalCase', () => {
    expect(() => build({ publishes: [{ ...OrderPlaced, type: 'order-placed' }] })).toThrow(
      /Microservice: invalid publishes\[0\]\.type "order-placed": use a PascalCase event name/,
    );
  });

  it('fails when an event is published by name instead of by contract', () => {
    expect(() => build({ publishes: ['OrderPlaced' as unknown as EventContract] })).toThrow(
      /Microservice: invalid publishes\[0\] "OrderPlaced": pass the event contract object/,
    );
  });

  it('fails when a published contract is listed twice', () => {
    expect(() => build({ publishes: [OrderPlaced, OrderPlaced] })).toThrow(
      /Microservice: invalid publishes\[1\] "orders.OrderPlaced v1": is listed twice/,
    );
  });

  it('fails when a subscribed contract is invalid, naming the subscription', () => {
    expect(() =>
      build({
        subscriptions: [
          {
            id: 'stock-results',
            events: [{ ...StockReserved, producer: 'Inventory' }],
            entry: HEALTH_HANDLER,
          },
        ],
      }),
    ).toThrow(/Microservice: invalid subscriptions\[0\]\.events\[0\]\.producer "Inventory"/);
  });

  it('fails when a subscription reuses a route id', () => {
    expect(() =>
      build({
        subscriptions: [{ id: 'post-orders', events: [StockReserved], entry: HEALTH_HANDLER }],
      }),
    ).toThrow(/invalid subscriptions\[0\]\.id "post-orders": is used by another route or subscription/);
  });

  it('fails when a service call path is not a route path', () => {
    expect(() => ServiceCall.to('users', HttpMethod.GET, 'customers')).toThrow(
      /ServiceCall: invalid path "customers"/,
    );
  });
});

describe('Microservice subscriptions to a producer in the same app', () => {
  /** orders (publishing OrderPlaced) and inventory (subscribing to `events`), each in its own stack. */
  function twoServices(events: EventContract[]) {
    const { app, stack: ordersStack, platform } = serviceStack('Shop-test-Orders');
    new Microservice(ordersStack, 'Service', {
      serviceName: 'orders',
      platform,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      publishes: [OrderPlaced],
      routes: [
        { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
      ],
    });
    const inventoryStack = new Stack(app, 'Shop-test-Inventory');
    new Microservice(inventoryStack, 'Service', {
      serviceName: 'inventory',
      platform: PlatformReference.fromRegistry(inventoryStack, 'Platform', {
        appName: 'Shop',
        envName: 'test',
      }),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      routes: [
        { method: HttpMethod.GET, path: '/health', entry: HEALTH_HANDLER, access: RouteAccess.PUBLIC },
      ],
      subscriptions: [{ id: 'reserve-stock', events, entry: HEALTH_HANDLER }],
    });
    return app;
  }

  it('synthesizes when the producing service publishes every subscribed contract', () => {
    expect(() => twoServices([OrderPlaced]).synth()).not.toThrow();
  });

  it('fails synth when the producing service of the app does not publish a subscribed contract', () => {
    expect(() => twoServices([OrderPlaced, OrderCancelled]).synth()).toThrow(
      /Microservice: invalid subscriptions\[0\]\.events\[1\] "orders.OrderCancelled v1": service "inventory" subscribes to an event that service "orders" of this app \(Shop\/test\) does not publish \(its publishes: OrderPlaced v1\)/,
    );
  });
});
