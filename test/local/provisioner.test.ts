import * as fs from 'node:fs';
import {
  DescribeResourceServerCommand,
  DescribeUserPoolClientCommand,
  ListGroupsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { EmulatorClients } from '../../local/aws-clients';
import type { Emulator } from '../../local/emulator';
import { startEmulator } from '../../local/emulator';
import type { LocalFunction, LocalSystem } from '../../local/model';
import { provision } from '../../local/provisioner';
import { synthReferenceSystem } from '../app/synth';

// Synthesizes the `local` environment once, provisions it into a fresh moto server and checks the emulator's real
// state and the LocalSystem the rest of the local runtime is driven by.
const API_BASE_URL = 'http://127.0.0.1:3000';

let outdir: string;
let emulator: Emulator;
let system: LocalSystem;
let clients: EmulatorClients;
let dynamo: DynamoDBClient;
const logLines: string[] = [];

beforeAll(async () => {
  outdir = synthReferenceSystem('local', { bundle: true }).outdir;
  emulator = await startEmulator();
  clients = new EmulatorClients(emulator);
  dynamo = clients.dynamodb;
  system = await provision(outdir, emulator, {
    apiBaseUrl: API_BASE_URL,
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  clients?.destroy();
  await emulator?.stop();
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

function functionBy(description: string): LocalFunction {
  const found = [...system.functions.values()].find((f) => f.description === description);
  if (!found) throw new Error(`no function "${description}"`);
  return found;
}

async function parameter(name: string): Promise<string> {
  const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: name }));
  return Parameter?.Value ?? '';
}

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return Attributes;
}

describe('provisioning the local environment into the emulator', () => {
  it('logs one line per stack, in dependency order, and one warning listing what is not emulated', () => {
    const stacks = logLines
      .filter((l) => l.startsWith('Provisioning '))
      .map((l) => /^Provisioning (\S+):/.exec(l)?.[1]);
    expect(stacks).toEqual([
      'Shop-Account',
      'Shop-local-Platform',
      'Shop-local-Users',
      'Shop-local-Orders',
      'Shop-local-Inventory',
    ]);
    expect(logLines).toContain(
      'Provisioning Shop-local-Orders: 1 table, 3 queues, 1 rule, 9 parameters, 5 functions, 4 routes, 1 queue mapping, 1 pipe',
    );
    const warnings = logLines.filter((l) => l.startsWith('Warning: not emulated'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/AWS::KMS::Key x4/);
  });

  it('creates the orders table with its keys, GSI byCustomer, stream and TTL', async () => {
    const tableName = functionBy('orders: POST /orders').environment.TABLE_NAME;
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const gsi = Table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === 'byCustomer');
    expect(gsi?.KeySchema).toEqual([
      { AttributeName: 'customerId', KeyType: 'HASH' },
      { AttributeName: 'createdAt', KeyType: 'RANGE' },
    ]);
    expect(gsi?.Projection?.ProjectionType).toBe('ALL');
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
    expect(Table?.LatestStreamArn).toBeDefined();
    const { TimeToLiveDescription } = await dynamo.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    expect(TimeToLiveDescription).toEqual({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
  });

  it('creates every consumer queue with redrive (maxReceiveCount 5) to its own dead-letter queue', async () => {
    expect(system.queueMappings).toHaveLength(3);
    for (const mapping of system.queueMappings) {
      const attributes = await queueAttributes(mapping.queueUrl);
      expect(attributes.VisibilityTimeout).toBe('180');
      expect(attributes.MessageRetentionPeriod).toBe('345600');
      const redrive = JSON.parse(attributes.RedrivePolicy) as {
        deadLetterTargetArn: string;
        maxReceiveCount: number;
      };
      expect(Number(redrive.maxReceiveCount)).toBe(5);
      // The DLQ is the queue named after the consumer's queue (…QueueXXXX → …DeadLetterQueueYYYY).
      const consumer =
        mapping.queueArn
          .split(':')
          .pop()
          ?.replace(/Queue[0-9A-F]{8}$/, '') ?? '';
      expect(redrive.deadLetterTargetArn).toMatch(new RegExp(`:${consumer}DeadLetterQueue[0-9A-F]{8}$`));
      const dlqUrl = mapping.queueUrl.replace(/[^/]+$/, redrive.deadLetterTargetArn.split(':').pop() ?? '');
      expect((await queueAttributes(dlqUrl)).MessageRetentionPeriod).toBe('1209600');
    }
  });

  it('creates the bus and its rules with their patterns and SQS targets', async () => {
    const busName = await parameter('/Shop/local/platform/event-bus-name');
    const { Rules = [] } = await clients.events.send(new ListRulesCommand({ EventBusName: busName }));
    const patterns = Rules.map((rule) => JSON.parse(rule.EventPattern ?? '{}') as Record<string, unknown>);
    expect(patterns).toEqual(
      expect.arrayContaining([
        { source: ['shop.inventory'], 'detail-type': ['StockReserved', 'StockRejected'] },
        { source: ['shop.orders'], 'detail-type': ['OrderPlaced'] },
        { source: ['shop.orders'], 'detail-type': ['OrderRejected', 'OrderCancelled'] },
      ]),
    );
    expect(Rules).toHaveLength(3);
    const queueArns = new Set(system.queueMappings.map((m) => m.queueArn));
    for (const rule of Rules) {
      const { Targets = [] } = await clients.events.send(
        new ListTargetsByRuleCommand({ Rule: rule.Name, EventBusName: busName }),
      );
      expect(Targets).toHaveLength(1);
      expect(queueArns.has(Targets[0].Arn ?? '')).toBe(true);
    }
  });

  it('creates the user pool with the resource server scopes, the groups and the client', async () => {
    const userPoolId = await parameter('/Shop/local/platform/user-pool-id');
    expect(system.identity?.userPoolId).toBe(userPoolId);
    const { ResourceServer } = await clients.cognito.send(
      new DescribeResourceServerCommand({ UserPoolId: userPoolId, Identifier: 'api' }),
    );
    expect((ResourceServer?.Scopes ?? []).map((s) => s.ScopeName).sort()).toEqual([
      'inventory.admin',
      'inventory.read',
      'orders.read',
      'orders.write',
      'users.read',
      'users.write',
    ]);
    const { Groups = [] } = await clients.cognito.send(new ListGroupsCommand({ UserPoolId: userPoolId }));
    expect(Groups.map((g) => g.GroupName).sort()).toEqual(['admins', 'customers']);
    const { UserPoolClient } = await clients.cognito.send(
      new DescribeUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientId: system.identity?.userPoolClientId,
      }),
    );
    expect(UserPoolClient?.ExplicitAuthFlows).toContain('ALLOW_USER_PASSWORD_AUTH');
    expect(UserPoolClient?.ClientSecret).toBeUndefined();
    expect(await parameter('/Shop/local/platform/user-pool-client-id')).toBe(
      system.identity?.userPoolClientId,
    );
    expect(system.identity?.groups).toEqual(['admins', 'customers']);
    expect(system.identity?.preTokenGenerationFunctionKey).toBe(
      functionBy('Adds resource-server scopes to access tokens according to the user groups').key,
    );
  });

  it('writes the registry with API URLs of the local gateway', async () => {
    expect(await parameter('/Shop/local/orders/api-url')).toBe(`${API_BASE_URL}/orders/`);
    expect(await parameter('/Shop/local/users/api-url')).toBe(`${API_BASE_URL}/users/`);
    expect(await parameter('/Shop/local/orders/api-id')).toBe('orders');
    expect(await parameter('/Shop/local/orders/function/post-orders')).toBe(
      functionBy('orders: POST /orders').name,
    );
    expect(await parameter('/Shop/local/platform/event-bus-arn')).toMatch(
      /^arn:aws:events:us-east-1:123456789012:event-bus\//,
    );
  });
});

describe('the LocalSystem', () => {
  it('has the 15 functions, with their bundled assets and resolved environments', async () => {
    expect(system.functions.size).toBe(15);
    for (const fn of system.functions.values()) {
      expect(fs.existsSync(`${fn.assetDir}/index.mjs`)).toBe(true);
      expect(fn.handler).toBe('index.handler');
      for (const value of Object.values(fn.environment)) expect(typeof value).toBe('string');
    }
    const postOrders = functionBy('orders: POST /orders');
    expect(postOrders.environment.TABLE_NAME).toBe('Shop-local-Orders-ServiceTable603BACCB');
    const { Table } = await dynamo.send(
      new DescribeTableCommand({ TableName: postOrders.environment.TABLE_NAME }),
    );
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(postOrders.environment.USERS_API_URL).toBe(`${API_BASE_URL}/users/`);
    expect(postOrders).toMatchObject({ timeoutSeconds: 10, memoryMb: 256, stackName: 'Shop-local-Orders' });
  });

  it('has every route of the 3 services with its authorization, function, parameters and schema', async () => {
    const userPoolId = await parameter('/Shop/local/platform/user-pool-id');
    // users 5, orders 4, inventory 2 (the templates hold 11 AWS::ApiGateway::Method resources).
    expect(system.routes).toHaveLength(11);
    expect(new Set(system.routes.map((r) => r.service))).toEqual(new Set(['users', 'orders', 'inventory']));
    const route = (method: string, service: string, path: string) => {
      const found = system.routes.find(
        (r) => r.method === method && r.service === service && r.resourcePath === path,
      );
      if (!found) throw new Error(`no route ${method} /${service}${path}`);
      return found;
    };
    expect(route('GET', 'users', '/health').authorization).toEqual({ type: 'NONE' });
    expect(route('GET', 'users', '/customers/{id}').authorization).toEqual({ type: 'AWS_IAM' });
    const postOrders = route('POST', 'orders', '/orders');
    expect(postOrders).toMatchObject({
      authorization: { type: 'COGNITO_USER_POOLS', userPoolId, scopes: ['api/orders.write'] },
      functionKey: functionBy('orders: POST /orders').key,
      validateBody: true,
      stage: 'v1',
      requiredParameters: [],
    });
    expect(postOrders.requestSchema).toMatchObject({ type: 'object', required: ['lines'] });
    expect(route('GET', 'orders', '/orders').requiredParameters).toEqual([
      'method.request.querystring.customerId',
    ]);
    expect(route('POST', 'orders', '/orders/{id}/cancel')).toMatchObject({
      functionKey: functionBy('orders: POST /orders/{id}/cancel').key,
      requiredParameters: ['method.request.path.id'],
    });
    expect(route('PUT', 'inventory', '/inventory/{sku}').authorization).toEqual({
      type: 'COGNITO_USER_POOLS',
      userPoolId,
      scopes: ['api/inventory.admin'],
    });
    for (const r of system.routes) expect(system.functions.has(r.functionKey)).toBe(true);
  });

  it('has the gateway responses of every service', () => {
    expect(system.gatewayResponses).toHaveLength(42);
    expect(
      system.gatewayResponses.find((g) => g.service === 'orders' && g.type === 'UNAUTHORIZED'),
    ).toMatchObject({
      statusCode: 401,
      headers: { 'Content-Type': 'application/json' },
      template: expect.stringContaining('$context.requestId'),
    });
  });

  it('has the 3 queue mappings with batch size, partial failures and concurrency', () => {
    expect(system.queueMappings).toHaveLength(3);
    for (const mapping of system.queueMappings) {
      expect(mapping).toMatchObject({
        batchSize: 10,
        reportBatchItemFailures: true,
        visibilityTimeoutSeconds: 180,
      });
      expect(mapping.maxConcurrency).toBeGreaterThan(0);
      expect(system.functions.get(mapping.functionKey)?.description).toMatch(/: consumes /);
    }
  });

  it('has the 2 outbox pipes from the table streams to the bus', async () => {
    const busName = await parameter('/Shop/local/platform/event-bus-name');
    expect(system.pipes).toHaveLength(2);
    const orders = system.pipes.find((p) => p.source === 'shop.orders');
    expect(orders).toMatchObject({
      tableName: 'Shop-local-Orders-ServiceTable603BACCB',
      eventBusName: busName,
      detailType: '$.dynamodb.NewImage.eventType.S',
      batchSize: 10,
      maximumRetryAttempts: 10,
    });
    expect(orders?.filterPatterns).toEqual([
      {
        eventName: ['INSERT'],
        dynamodb: {
          NewImage: {
            itemType: { S: ['OUTBOX'] },
            eventType: { S: ['OrderPlaced', 'OrderConfirmed', 'OrderRejected', 'OrderCancelled'] },
          },
        },
      },
    ]);
    expect(orders?.inputTemplate).toContain('"id": "<$.dynamodb.NewImage.eventId.S>"');
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: orders?.tableName }));
    expect(orders?.streamArn).toBe(Table?.LatestStreamArn);
    expect(orders?.deadLetterQueueUrl).toMatch(/OutboxDeadLetterQueue[0-9A-F]{8}$/);
    expect((await queueAttributes(orders?.deadLetterQueueUrl ?? '')).QueueArn).toBeDefined();
    expect(system.pipes.find((p) => p.source === 'shop.inventory')?.tableName).toBe(
      'Shop-local-Inventory-ServiceTable603BACCB',
    );
  });

  it('lists the resource types it does not emulate', () => {
    const types = system.notEmulated.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::KMS::Key',
        'AWS::WAFv2::WebACL',
        'AWS::IAM::Role',
        'AWS::Events::Archive',
      ]),
    );
    expect(system.notEmulated.find((e) => e.type === 'AWS::KMS::Key')?.count).toBe(4);
  });
});

describe('the emulator', () => {
  it('stops moto by its pid, leaving no process behind', async () => {
    const second = await startEmulator();
    expect(second.external).toBe(false);
    expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const pid = second.pid as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await second.stop();
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('uses the emulator that AWS_ENDPOINT_URL names, without starting one', async () => {
    const external = await startEmulator({
      AWS_ENDPOINT_URL: 'http://localhost:4566/',
      AWS_REGION: 'eu-west-1',
    });
    expect(external).toMatchObject({
      endpoint: 'http://localhost:4566',
      region: 'eu-west-1',
      accessKeyId: 'test',
      secretAccessKey: 'test',
      external: true,
    });
    await external.stop();
  });

  it('fails at once, saying how to get one, when there is neither moto nor AWS_ENDPOINT_URL', async () => {
    await expect(startEmulator({ PATH: '/nonexistent' })).rejects.toThrow(
      /pip install "moto\[server\]".*AWS_ENDPOINT_URL=http:\/\/localhost:4566/,
    );
  });
});
