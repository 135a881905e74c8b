import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  GetGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListRulesCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { EmulatorClients } from '../../../local/aws-clients';
import type { Emulator } from '../../../local/emulator';
import { startEmulator } from '../../../local/emulator';
import type { LocalSystem } from '../../../local/model';
import { provision, systemChanges } from '../../../local/provisioner';

// Infrastructure reload: the same emulator provisioned again from a changed assembly keeps the data and the
// identities it holds, creates what is new and updates what changed.

const API_BASE_URL = 'http://127.0.0.1:3000';
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const BUS = 'reload-bus';
const GROUP = 'admins';

const outdirs: string[] = [];
let emulator: Emulator;
let clients: EmulatorClients;
let first: LocalSystem;
let second: LocalSystem;
let again: LocalSystem;
let v1: string;
const lines: string[] = [];

/**
 * A small app in two versions. Version 2 changes the queue's visibility timeout, the function's environment,
 * the parameter's value, the rule's pattern and target and the group's description, and adds a queue, a rule
 * and a route.
 */
function synth(version: 1 | 2): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `reload-v${version}-`));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Reload-local-Things');
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    stream: dynamodb.StreamViewType.NEW_IMAGE,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  if (version === 2) {
    table.addGlobalSecondaryIndex({
      indexName: 'byNote',
      partitionKey: { name: 'note', type: dynamodb.AttributeType.STRING },
    });
  }
  new dynamodb.Table(stack, 'Rekeyed', {
    tableName: 'reload-rekeyed',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    ...(version === 2 ? { sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING } } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const queue = new sqs.Queue(stack, 'Queue', {
    visibilityTimeout: Duration.seconds(version === 1 ? 30 : 60),
  });
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'env-handler.handler',
    code: lambda.Code.fromAsset(FIXTURES),
    environment: { TABLE_NAME: table.tableName, GREETING: version === 1 ? 'hello' : 'bonjour' },
  });
  new ssm.StringParameter(stack, 'Greeting', {
    parameterName: '/reload/greeting',
    stringValue: version === 1 ? 'hello' : 'bonjour',
  });
  const bus = new events.EventBus(stack, 'Bus', { eventBusName: BUS });
  const pool = new cognito.UserPool(stack, 'Pool', {
    userPoolName: 'reload-pool',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  pool.addClient('Client', { authFlows: { userPassword: true } });
  pool.addResourceServer('Api', {
    identifier: 'api',
    scopes: [
      new cognito.ResourceServerScope({ scopeName: 'things.read', scopeDescription: 'read' }),
      ...(version === 2
        ? [new cognito.ResourceServerScope({ scopeName: 'things.write', scopeDescription: 'write' })]
        : []),
    ],
  });
  new cognito.CfnUserPoolGroup(stack, 'Admins', {
    userPoolId: pool.userPoolId,
    groupName: GROUP,
    description: version === 1 ? 'first' : 'second',
  });
  const api = new apigateway.RestApi(stack, 'Api', {
    restApiName: 'Reload-local-things',
    deployOptions: { stageName: 'v1' },
  });
  const things = api.root.addResource('things');
  things.addMethod('GET', new apigateway.LambdaIntegration(handler));
  if (version === 1) {
    new events.Rule(stack, 'Rule', {
      ruleName: 'reload-rule',
      eventBus: bus,
      eventPattern: { source: ['v1'] },
      targets: [new targets.SqsQueue(queue)],
    });
  } else {
    const added = new sqs.Queue(stack, 'AddedQueue', { queueName: 'reload-added' });
    new events.Rule(stack, 'Rule', {
      ruleName: 'reload-rule',
      eventBus: bus,
      eventPattern: { source: ['v2'] },
      targets: [new targets.SqsQueue(added)],
    });
    new events.Rule(stack, 'AddedRule', {
      ruleName: 'reload-added-rule',
      eventBus: bus,
      eventPattern: { source: ['added'] },
      targets: [new targets.SqsQueue(queue)],
    });
    things.addResource('{id}').addMethod('GET', new apigateway.LambdaIntegration(handler));
  }
  app.synth();
  return outdir;
}

const tableName = (system: LocalSystem) => [...system.functions.values()][0].environment.TABLE_NAME;

beforeAll(async () => {
  emulator = await startEmulator();
  clients = new EmulatorClients(emulator);
  const options = { apiBaseUrl: API_BASE_URL, log: (line: string) => lines.push(line) };
  v1 = synth(1);
  first = await provision(v1, emulator, options);
  // What the developer did with the first version: an item, a message, a user.
  await clients.dynamodb.send(
    new PutItemCommand({
      TableName: tableName(first),
      Item: { pk: { S: 'kept' }, note: { S: 'written before' } },
    }),
  );
  const queueUrl = first.resources.find((r) => r.logicalId.startsWith('Queue'))?.ref ?? '';
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'waiting' }));
  await clients.cognito.send(
    new AdminCreateUserCommand({ UserPoolId: first.identity?.userPoolId, Username: 'dev@example.com' }),
  );
  lines.length = 0;
  const v2 = synth(2);
  second = await provision(v2, emulator, options);
  again = await provision(v2, emulator, { apiBaseUrl: API_BASE_URL });
}, 120_000);

afterAll(async () => {
  clients?.destroy();
  await emulator?.stop();
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('provisioning a changed assembly into the same emulator', () => {
  it('keeps the table and its items', async () => {
    expect(tableName(second)).toBe(tableName(first));
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName(second), Key: { pk: { S: 'kept' } }, ConsistentRead: true }),
    );
    expect(Item?.note).toEqual({ S: 'written before' });
  });

  it('adds the index the new version declares to the table', async () => {
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName(second) }));
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byNote']);
    expect(lines).toContainEqual(expect.stringMatching(/table .*: index byNote added$/));
  });

  it('keeps a table whose keys changed as it is, and says so', () => {
    expect(lines).toContain(
      "Warning: table reload-rekeyed keeps its keys (pk HASH); the template's are pk HASH, sk RANGE: " +
        'restart with a fresh emulator to apply them',
    );
  });

  it('keeps the queue and its messages, with the visibility timeout of the new version', async () => {
    const queueUrl = second.resources.find((r) => r.logicalId.startsWith('Queue'))?.ref;
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['VisibilityTimeout', 'ApproximateNumberOfMessages'],
      }),
    );
    expect(Attributes).toMatchObject({ VisibilityTimeout: '60', ApproximateNumberOfMessages: '1' });
    expect(lines).toContainEqual(expect.stringMatching(/queue .*Queue.*: attributes updated/));
  });

  it('creates the added queue and rule, and gives the changed rule its new pattern and target', async () => {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'reload-added' }));
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const { Rules = [] } = await clients.events.send(new ListRulesCommand({ EventBusName: BUS }));
    expect(
      Object.fromEntries(Rules.map((rule) => [rule.Name, JSON.parse(rule.EventPattern ?? '{}')])),
    ).toEqual({
      'reload-rule': { source: ['v2'] },
      'reload-added-rule': { source: ['added'] },
    });
    const { Targets = [] } = await clients.events.send(
      new ListTargetsByRuleCommand({ Rule: 'reload-rule', EventBusName: BUS }),
    );
    expect(Targets.map((target) => target.Arn)).toEqual([Attributes?.QueueArn]);
  });

  it('serves the added route', () => {
    const paths = (system: LocalSystem) =>
      system.routes.map((r) => `${r.method} /${r.service}${r.resourcePath}`);
    expect(paths(first)).toEqual(['GET /things/things']);
    expect(paths(second).sort()).toEqual(['GET /things/things', 'GET /things/things/{id}']);
  });

  it('gives the function its new environment and the parameter its new value', async () => {
    const [handler] = second.functions.values();
    expect(handler.environment.GREETING).toBe('bonjour');
    const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: '/reload/greeting' }));
    expect(Parameter?.Value).toBe('bonjour');
  });

  it('keeps the user pool, its client and its users; gives the group its new description', async () => {
    expect(second.identity).toEqual(first.identity);
    const user = await clients.cognito.send(
      new AdminGetUserCommand({ UserPoolId: second.identity?.userPoolId, Username: 'dev@example.com' }),
    );
    expect(user.Username).toBe('dev@example.com');
    const { Group } = await clients.cognito.send(
      new GetGroupCommand({ UserPoolId: second.identity?.userPoolId, GroupName: GROUP }),
    );
    expect(Group?.Description).toBe('second');
  });

  it('says what changed: the added route, resources added and the properties that changed', () => {
    const changes = systemChanges(first, second);
    expect(changes).toEqual(
      expect.arrayContaining([
        '+ route GET /things/things/{id}',
        expect.stringMatching(/^\+ Reload-local-Things\/AddedQueue[0-9A-F]{8} \(AWS::SQS::Queue\)$/),
        expect.stringMatching(/^\+ Reload-local-Things\/AddedRule[0-9A-F]{8} \(AWS::Events::Rule\)$/),
        expect.stringMatching(
          /^~ Reload-local-Things\/Queue[0-9A-F]{8} \(AWS::SQS::Queue\): VisibilityTimeout$/,
        ),
        expect.stringMatching(
          /^~ Reload-local-Things\/Handler[0-9A-F]{8} \(AWS::Lambda::Function\): Environment$/,
        ),
        expect.stringMatching(
          /^~ Reload-local-Things\/Rule[0-9A-F]{8} \(AWS::Events::Rule\): EventPattern, Targets$/,
        ),
      ]),
    );
    expect(changes.filter((line) => line.startsWith('- '))).toEqual([]);
    expect(systemChanges(second, again)).toEqual([]);
  });

  it('says which scopes of the resource server the emulator could not update (moto cannot update one)', () => {
    expect(lines).toContainEqual(
      expect.stringMatching(
        /the emulator cannot update resource server api: its scopes stay as first provisioned \(the template added things\.write\); restart dev to apply them$/,
      ),
    );
  });

  it('builds the same LocalSystem when run again on the same assembly', () => {
    expect(again.identity).toEqual(second.identity);
    expect(again.routes).toEqual(second.routes);
    expect(again.functions).toEqual(second.functions);
    expect(again.queueMappings).toEqual(second.queueMappings);
    expect(again.pipes).toEqual(second.pipes);
  });
});

describe('provisioning the first version again, given the system it replaces', () => {
  it('deletes the rule the assembly no longer has and restores the changed one', async () => {
    const log: string[] = [];
    const back = await provision(v1, emulator, {
      apiBaseUrl: API_BASE_URL,
      previous: again,
      log: (l) => log.push(l),
    });
    const { Rules = [] } = await clients.events.send(new ListRulesCommand({ EventBusName: BUS }));
    expect(Rules.map((rule) => [rule.Name, JSON.parse(rule.EventPattern ?? '{}')])).toEqual([
      ['reload-rule', { source: ['v1'] }],
    ]);
    expect(log).toContain('  rule reload-added-rule: deleted (no longer in the assembly)');
    // The resource server has the first version's scopes: nothing to update, nothing to warn about.
    expect(log.filter((line) => /cannot update resource server/.test(line))).toEqual([]);
    expect(systemChanges(again, back)).toEqual(
      expect.arrayContaining([
        '- route GET /things/things/{id}',
        expect.stringMatching(/^- Reload-local-Things\/AddedRule[0-9A-F]{8} \(AWS::Events::Rule\)$/),
      ]),
    );
    // The table kept its items through both reloads.
    const { Item } = await clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName(back), Key: { pk: { S: 'kept' } }, ConsistentRead: true }),
    );
    expect(Item).toBeDefined();
  });
});
