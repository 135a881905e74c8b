import { Agent } from 'node:http';
import type { AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startMotoServer } from '../../local/emulator';

const START_TIMEOUT_MS = 20_000;

/** A running moto server on a loopback port. */
export interface Moto {
  /** `http://127.0.0.1:{port}` */
  readonly endpoint: string;
  /** Stops the server by its process id (SIGTERM, then SIGKILL) and waits for it to exit. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers (see `startMotoServer` of the
 * local runtime). Throws (with moto's stderr and an install hint) if it is not installed or does not come up.
 */
export async function startMoto(): Promise<Moto> {
  const { endpoint, stop } = await startMotoServer();
  return { endpoint, stop };
}

/** Options of {@link dynamoClientFor}. */
export interface ClientOptions {
  /**
   * How many HTTP connections the client may open to moto.
   * @default 50 - concurrent requests, as Lambda functions would send them. The emulator started by
   * local/emulator.ts serializes DynamoDB requests (plain moto would let concurrent transactions interleave).
   */
  readonly connections?: number;
}

/** A document client for the moto server at `endpoint` (dummy credentials, us-east-1). */
export function dynamoClientFor(endpoint: string, options: ClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: options.connections ?? 50 }) },
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Options of {@link createTable}. */
export interface CreateTableOptions {
  /** A global secondary index with string keys (projection ALL). */
  readonly gsi?: { readonly name: string; readonly partitionKey: string; readonly sortKey?: string };
}

/** Creates an on-demand table with string partition key `pk` and waits until it is ACTIVE. */
export async function createTable(
  client: DynamoDBDocumentClient,
  name: string,
  options: CreateTableOptions = {},
): Promise<void> {
  const { gsi } = options;
  const keys = new Set(['pk', gsi?.partitionKey, gsi?.sortKey].filter((k): k is string => k !== undefined));
  const AttributeDefinitions: AttributeDefinition[] = [...keys].map((AttributeName) => ({
    AttributeName,
    AttributeType: 'S',
  }));
  const indexes: GlobalSecondaryIndex[] | undefined = gsi && [
    {
      IndexName: gsi.name,
      KeySchema: keySchema(gsi.partitionKey, gsi.sortKey),
      Projection: { ProjectionType: 'ALL' },
    },
  ];
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions,
      KeySchema: keySchema('pk'),
      ...(indexes ? { GlobalSecondaryIndexes: indexes } : {}),
    }),
  );
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`Table ${name} is still ${Table?.TableStatus}`);
    await sleep(100);
  }
}

function keySchema(partitionKey: string, sortKey?: string): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
  ];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every item stored in a table (consistent scan, all pages). */
export async function scanAll(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}
