import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalSystem, ResolvedResource } from '../../local/model';
import { Authorizer } from '../../local/iam/authorizer';
import { parseAwsCall } from '../../local/iam/aws-calls';
import { AuthorizingProxy } from '../../local/iam/aws-proxy';
import { PolicyModel } from '../../local/iam/policy-model';
import { deriveInteractions } from '../../local/iam/interactions';

// The authorization model, evaluator, request mapping and proxy of the local runtime's IAM enforcement, on a
// small hand-written assembly: a function role with table access, an encrypted table and queue, a queue policy
// for one rule, key policies, and a Lambda permission for API Gateway.

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`;
const OTHER_TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/users`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:reserve-stock`;
const QUEUE_URL = `http://127.0.0.1:5000/${ACCOUNT}/reserve-stock`;
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/service-key`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/orders-fn-role`;
const RULE = `arn:aws:events:${REGION}:${ACCOUNT}:rule/shop/order-placed`;
const FUNCTION_ALIAS = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:get-order:live`;

function resource(
  logicalId: string,
  type: string,
  properties: Record<string, unknown>,
  ref: string,
  attributes: Record<string, unknown> = {},
): ResolvedResource {
  return { stackName: 'Test', logicalId, type, properties, ref, attributes, metadata: {} };
}

interface Options {
  readonly grant?: readonly string[];
  readonly keyStatements?: readonly Record<string, unknown>[];
  readonly queueStatements?: readonly Record<string, unknown>[];
  readonly permission?: boolean;
}

const ROOT_DELEGATION = {
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};
const EVENTS_MAY_USE_KEY = {
  Effect: 'Allow',
  Principal: { Service: 'events.amazonaws.com' },
  Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
  Resource: '*',
};
const RULE_MAY_SEND = {
  Sid: 'RuleMaySend',
  Effect: 'Allow',
  Principal: { Service: 'events.amazonaws.com' },
  Action: 'sqs:SendMessage',
  Resource: QUEUE,
  Condition: { ArnEquals: { 'aws:SourceArn': RULE } },
};
const TLS_ONLY = {
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'sqs:*',
  Resource: QUEUE,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

function model(options: Options = {}): PolicyModel {
  const grant = options.grant ?? ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'];
  return new PolicyModel(
    [
      resource('Role', 'AWS::IAM::Role', {}, 'orders-fn-role', { Arn: ROLE }),
      resource(
        'RolePolicy',
        'AWS::IAM::Policy',
        {
          Roles: ['orders-fn-role'],
          PolicyDocument: {
            Statement: [
              { Effect: 'Allow', Action: grant, Resource: TABLE },
              { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: KEY },
              { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE },
            ],
          },
        },
        'RolePolicy',
      ),
      resource(
        'Key',
        'AWS::KMS::Key',
        { KeyPolicy: { Statement: options.keyStatements ?? [ROOT_DELEGATION, EVENTS_MAY_USE_KEY] } },
        'service-key',
        { Arn: KEY },
      ),
      resource(
        'Table',
        'AWS::DynamoDB::Table',
        { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: KEY } },
        'orders',
        { Arn: TABLE },
      ),
      resource('Queue', 'AWS::SQS::Queue', { KmsMasterKeyId: KEY }, QUEUE_URL, { Arn: QUEUE }),
      resource(
        'QueuePolicy',
        'AWS::SQS::QueuePolicy',
        {
          Queues: [QUEUE_URL],
          PolicyDocument: { Statement: options.queueStatements ?? [RULE_MAY_SEND, TLS_ONLY] },
        },
        'QueuePolicy',
      ),
      ...(options.permission === false
        ? []
        : [
            resource(
              'Permission',
              'AWS::Lambda::Permission',
              {
                Action: 'lambda:InvokeFunction',
                FunctionName: FUNCTION_ALIAS,
                Principal: 'apigateway.amazonaws.com',
                SourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:orders/v1/GET/orders/*`,
              },
              'Permission',
            ),
          ]),
    ],
    ACCOUNT,
    REGION,
  );
}

const role = { kind: 'role', roleArn: ROLE, sessionName: 'orders-fn' } as const;
const events = { kind: 'service', service: 'events.amazonaws.com' } as const;

describe('Authorizer', () => {
  it('allows what the role grants and names the role policy when it does not', async () => {
    const authorizer = new Authorizer(model());
    expect(
      (await authorizer.authorize({ principal: role, action: 'dynamodb:GetItem', resource: TABLE })).allowed,
    ).toBe(true);
    const denied = await authorizer.authorize({
      principal: role,
      action: 'dynamodb:DeleteItem',
      resource: TABLE,
    });
    expect(denied.allowed).toBe(false);
    expect(denied.principalArn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/orders-fn-role/orders-fn`);
    expect(denied.reason).toMatch(/no statement in the policies of role Test\/Role \(Test\/RolePolicy\)/);
    expect(denied.awsReason).toBe('because no identity-based policy allows the dynamodb:DeleteItem action');
  });

  it('denies a table access when the key policy neither allows it nor delegates to IAM', async () => {
    const withRoot = new Authorizer(model());
    expect(
      (
        await withRoot.authorizeWithKey({ principal: role, action: 'dynamodb:GetItem', resource: TABLE }, [
          'kms:Decrypt',
        ])
      ).allowed,
    ).toBe(true);
    const noRoot = new Authorizer(model({ keyStatements: [EVENTS_MAY_USE_KEY] }));
    const denied = await noRoot.authorizeWithKey(
      { principal: role, action: 'dynamodb:GetItem', resource: TABLE },
      ['kms:Decrypt'],
    );
    expect(denied.allowed).toBe(false);
    expect(denied.request.action).toBe('kms:Decrypt');
    expect(denied.request.context?.['kms:ViaService']).toBe(`dynamodb.${REGION}.amazonaws.com`);
    expect(denied.reason).toMatch(/the key policy Test\/Key \(AWS::KMS::Key\) has no statement allowing it/);
  });

  it('lets a rule deliver only with the queue policy statement naming it and the key policy statement', async () => {
    const request = {
      principal: events,
      action: 'sqs:SendMessage',
      resource: QUEUE,
      context: { 'aws:SourceArn': RULE, 'aws:SourceAccount': ACCOUNT },
    };
    const kms = ['kms:GenerateDataKey', 'kms:Decrypt'];
    expect((await new Authorizer(model()).authorizeWithKey(request, kms)).allowed).toBe(true);

    const otherRule = await new Authorizer(model()).authorizeWithKey(
      { ...request, context: { ...request.context, 'aws:SourceArn': `${RULE}-other` } },
      kms,
    );
    expect(otherRule.allowed).toBe(false);
    expect(otherRule.reason).toMatch(
      /QueuePolicy \(AWS::SQS::QueuePolicy\) has no statement allowing events/,
    );

    const noQueueStatement = await new Authorizer(model({ queueStatements: [TLS_ONLY] })).authorizeWithKey(
      request,
      kms,
    );
    expect(noQueueStatement.allowed).toBe(false);

    const noKeyStatement = await new Authorizer(model({ keyStatements: [ROOT_DELEGATION] })).authorizeWithKey(
      request,
      kms,
    );
    expect(noKeyStatement.allowed).toBe(false);
    expect(noKeyStatement.request.action).toBe('kms:GenerateDataKey');
  });

  it('holds calls over TLS, so a TLS-only deny does not refuse them', async () => {
    const decision = await new Authorizer(model()).authorizeWithKey(
      { principal: role, action: 'sqs:SendMessage', resource: QUEUE },
      ['kms:GenerateDataKey', 'kms:Decrypt'],
    );
    expect(decision.allowed).toBe(true);
  });

  it('lets API Gateway invoke the alias only with its Lambda permission and a matching source ARN', async () => {
    const request = (sourceArn: string) => ({
      principal: { kind: 'service', service: 'apigateway.amazonaws.com' } as const,
      action: 'lambda:InvokeFunction',
      resource: FUNCTION_ALIAS,
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT },
    });
    const ok = `arn:aws:execute-api:${REGION}:${ACCOUNT}:orders/v1/GET/orders/{id}`;
    expect((await new Authorizer(model()).authorize(request(ok))).allowed).toBe(true);
    expect(
      (
        await new Authorizer(model()).authorize(
          request(`arn:aws:execute-api:${REGION}:${ACCOUNT}:users/v1/GET/x`),
        )
      ).allowed,
    ).toBe(false);
    const noPermission = await new Authorizer(model({ permission: false })).authorize(request(ok));
    expect(noPermission.allowed).toBe(false);
    expect(noPermission.reason).toMatch(/has no resource policy allowing apigateway.amazonaws.com/);
  });
});

describe('parseAwsCall', () => {
  const scope = { region: REGION, accountId: ACCOUNT };
  const signed = (service: string, target?: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261129/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=00`,
    ...(target ? { 'x-amz-target': target } : {}),
  });

  it('maps a DynamoDB transaction to the action of each item on its table', () => {
    const body = Buffer.from(
      JSON.stringify({
        TransactItems: [
          { Put: { TableName: 'orders', Item: {} } },
          { ConditionCheck: { TableName: 'users', Key: {} } },
          { Update: { TableName: 'orders', Key: {} } },
        ],
      }),
    );
    const call = parseAwsCall(signed('dynamodb', 'DynamoDB_20120810.TransactWriteItems'), body, scope);
    expect(call).toMatchObject({
      service: 'dynamodb',
      operation: 'TransactWriteItems',
      accessKeyId: 'ASIAEXAMPLE',
    });
    expect(call?.needs?.map((n) => [n.action, n.resource])).toEqual([
      ['dynamodb:PutItem', TABLE],
      ['dynamodb:ConditionCheckItem', OTHER_TABLE],
      ['dynamodb:UpdateItem', TABLE],
    ]);
  });

  it('maps a query on an index to the index ARN, and SQS, EventBridge and SSM calls to their resources', () => {
    const query = parseAwsCall(
      signed('dynamodb', 'DynamoDB_20120810.Query'),
      Buffer.from(JSON.stringify({ TableName: 'orders', IndexName: 'byCustomer' })),
      scope,
    );
    expect(query?.needs?.[0]).toMatchObject({
      action: 'dynamodb:Query',
      resource: `${TABLE}/index/byCustomer`,
    });
    const send = parseAwsCall(
      signed('sqs', 'AmazonSQS.SendMessage'),
      Buffer.from(JSON.stringify({ QueueUrl: QUEUE_URL, MessageBody: 'x' })),
      scope,
    );
    expect(send?.needs?.[0]).toMatchObject({ action: 'sqs:SendMessage', resource: QUEUE });
    const put = parseAwsCall(
      signed('events', 'AWSEvents.PutEvents'),
      Buffer.from(JSON.stringify({ Entries: [{ EventBusName: 'shop' }, {}] })),
      scope,
    );
    expect(put?.needs?.map((n) => n.resource)).toEqual([
      `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/shop`,
      `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
    ]);
    const parameter = parseAwsCall(
      signed('ssm', 'AmazonSSM.GetParameter'),
      Buffer.from(JSON.stringify({ Name: '/Shop/dev/orders/api-url' })),
      scope,
    );
    expect(parameter?.needs?.[0].resource).toBe(
      `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/Shop/dev/orders/api-url`,
    );
  });

  it('returns undefined for an unsigned request and no needs for an unmapped operation', () => {
    expect(parseAwsCall({}, Buffer.alloc(0), scope)).toBeUndefined();
    const call = parseAwsCall(signed('dynamodb', 'DynamoDB_20120810.CreateBackup'), Buffer.from('{}'), scope);
    expect(call?.needs).toBeUndefined();
  });
});

describe('AuthorizingProxy', () => {
  it('answers a denied call as DynamoDB and SQS do, logs the missing statement, and forwards allowed calls', async () => {
    const forwarded: string[] = [];
    const upstream = createServer((req, res) => {
      forwarded.push(String(req.headers['x-amz-target']));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const lines: string[] = [];
    const proxy = new AuthorizingProxy({
      emulatorEndpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      authorizer: new Authorizer(model({ grant: ['dynamodb:GetItem'] })),
      callerOf: (key) =>
        key === 'ASIAORDERSFUNCTION1'
          ? {
              functionKey: 'Test/Fn',
              principal: role,
              credentials: { secretAccessKey: 'secret', sessionToken: 'token' },
            }
          : undefined,
      log: (line) => lines.push(line),
    });
    const endpoint = await proxy.start();
    const credentials = {
      accessKeyId: 'ASIAORDERSFUNCTION1',
      secretAccessKey: 'secret',
      sessionToken: 'token',
    };
    const dynamo = new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
    // The stand-in emulator answers {}: no MD5 of the body to check.
    const sqs = new SQSClient({ endpoint, region: REGION, credentials, maxAttempts: 1, md5: false });
    try {
      await dynamo.send(new GetItemCommand({ TableName: 'orders', Key: { pk: { S: '1' } } }));
      expect(forwarded).toEqual(['DynamoDB_20120810.GetItem']);

      const write = dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: 'orders', Item: { pk: { S: '1' } } } }],
        }),
      );
      await expect(write).rejects.toMatchObject({
        name: 'AccessDeniedException',
        message: expect.stringMatching(
          /^User: arn:aws:sts::123456789012:assumed-role\/orders-fn-role\/orders-fn is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table\/orders because no identity-based policy allows the dynamodb:PutItem action$/,
        ),
        $metadata: expect.objectContaining({ httpStatusCode: 400 }),
      });
      expect(lines.at(-1)).toMatch(
        /^DENIED arn:aws:sts::123456789012:assumed-role\/orders-fn-role\/orders-fn dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table\/orders \(Test\/Table\): no statement in the policies of role Test\/Role \(Test\/RolePolicy\) allows it, nor does Test\/Table, which has no resource policy \[function Test\/Fn\]$/,
      );

      await sqs.send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: 'x' }));
      expect(forwarded).toEqual(['DynamoDB_20120810.GetItem', 'AmazonSQS.SendMessage']);

      const stranger = new DynamoDBClient({
        endpoint,
        region: REGION,
        credentials: { accessKeyId: 'ASIAUNKNOWN', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      await expect(
        stranger.send(new GetItemCommand({ TableName: 'orders', Key: { pk: { S: '1' } } })),
      ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
      stranger.destroy();

      // The key id alone does not make a caller: a wrong secret or session token is refused, as AWS refuses
      // them, and so is a request without a signature.
      const get = new GetItemCommand({ TableName: 'orders', Key: { pk: { S: '1' } } });
      for (const [wrong, name] of [
        [{ ...credentials, secretAccessKey: 'guessed' }, 'InvalidSignatureException'],
        [{ ...credentials, sessionToken: 'other' }, 'UnrecognizedClientException'],
      ] as const) {
        const impostor = new DynamoDBClient({ endpoint, region: REGION, credentials: wrong, maxAttempts: 1 });
        await expect(impostor.send(get)).rejects.toMatchObject({ name });
        impostor.destroy();
      }
      const unsigned = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'x-amz-target': 'DynamoDB_20120810.GetItem',
          'content-type': 'application/x-amz-json-1.0',
        },
        body: JSON.stringify({ TableName: 'orders', Key: { pk: { S: '1' } } }),
      });
      expect(unsigned.status).toBe(400);
      expect(await unsigned.json()).toMatchObject({
        __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
      });
      expect(forwarded).toHaveLength(2);
    } finally {
      dynamo.destroy();
      sqs.destroy();
      await proxy.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});

describe('PolicyModel, beyond the reference system', () => {
  const api = `arn:aws:execute-api:${REGION}:${ACCOUNT}:payments`;
  const base = [
    resource(
      'Role',
      'AWS::IAM::Role',
      { ManagedPolicyArns: [`arn:aws:iam::${ACCOUNT}:policy/shared`] },
      'r',
      {
        Arn: ROLE,
      },
    ),
    resource(
      'Inline',
      'AWS::IAM::RolePolicy',
      {
        RoleName: 'r',
        PolicyDocument: {
          Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${api}/*` }],
        },
      },
      'Inline',
    ),
    resource(
      'Shared',
      'AWS::IAM::ManagedPolicy',
      { PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY }] } },
      `arn:aws:iam::${ACCOUNT}:policy/shared`,
    ),
    resource('Key', 'AWS::KMS::Key', {}, 'k', { Arn: KEY }),
  ];
  const asRole = { kind: 'role', roleArn: ROLE, sessionName: 'fn' } as const;

  it('reads AWS::IAM::RolePolicy, customer-managed policies attached by ARN, and the default key policy', async () => {
    const authorizer = new Authorizer(new PolicyModel(base, ACCOUNT, REGION));
    const invoke = { principal: asRole, action: 'execute-api:Invoke', resource: `${api}/v1/GET/x` };
    expect((await authorizer.authorize(invoke)).allowed).toBe(true);
    // The key has no KeyPolicy: AWS's default lets the account's IAM policies decide.
    expect(
      (await authorizer.authorize({ principal: asRole, action: 'kms:Decrypt', resource: KEY })).allowed,
    ).toBe(true);
    expect(
      (await authorizer.authorize({ principal: asRole, action: 'kms:Encrypt', resource: KEY })).allowed,
    ).toBe(false);
  });

  it("applies an API's resource policy to every method of the API", async () => {
    const withPolicy = [
      ...base,
      resource(
        'Api',
        'AWS::ApiGateway::RestApi',
        {
          Policy: {
            Statement: [
              { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: `${api}/*/GET/x` },
            ],
          },
        },
        'payments',
      ),
    ];
    const authorizer = new Authorizer(new PolicyModel(withPolicy, ACCOUNT, REGION));
    const denied = await authorizer.authorize({
      principal: asRole,
      action: 'execute-api:Invoke',
      resource: `${api}/v1/GET/x`,
    });
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toMatch(/explicitly denied .*AWS::ApiGateway::RestApi/);
    const other = await authorizer.authorize({
      principal: asRole,
      action: 'execute-api:Invoke',
      resource: `${api}/v1/POST/y`,
    });
    expect(other.allowed).toBe(true);
  });
});

describe('deriveInteractions', () => {
  it('derives what a pipe with a queue source and a function target, and a rule with a function target, need', () => {
    const fn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:settle`;
    const system = {
      accountId: ACCOUNT,
      routes: [],
      queueMappings: [],
      functions: new Map(),
      resources: [
        resource(
          'Pipe',
          'AWS::Pipes::Pipe',
          { RoleArn: ROLE, Source: QUEUE, Target: fn, Enrichment: fn },
          'pipe',
          { Arn: `arn:aws:pipes:${REGION}:${ACCOUNT}:pipe/pipe` },
        ),
        resource('Rule', 'AWS::Events::Rule', { Targets: [{ Id: 't', Arn: fn }] }, 'rule', { Arn: RULE }),
      ],
    } as unknown as LocalSystem;
    const found = deriveInteractions(system, REGION).map((i) => [
      i.kind,
      i.request.action,
      i.request.resource,
    ]);
    expect(found).toEqual([
      ['pipe → source', 'sqs:ReceiveMessage', QUEUE],
      ['pipe → source', 'sqs:DeleteMessage', QUEUE],
      ['pipe → source', 'sqs:GetQueueAttributes', QUEUE],
      ['pipe → target', 'lambda:InvokeFunction', fn],
      ['pipe → target', 'lambda:InvokeFunction', fn],
      ['rule → function', 'lambda:InvokeFunction', fn],
    ]);
  });
});
