/**
 * DynamoDB tables: created with their keys, indexes, stream and TTL. A table that already exists (a re-run
 * into the same emulator, or an external emulator that outlived an earlier run) keeps its items; indexes and
 * a stream the template added are added to it.
 */
import type {
  AttributeDefinition,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  ProvisionedThroughput,
  StreamViewType,
  TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import { sleep } from '../util';
import type { Props, ProvisionState, ResourceProvisioner } from './state';

const TABLE_READY_TIMEOUT_MS = 30_000;

/** Provisions `AWS::DynamoDB::Table`. */
export const dynamoDbProvisioner: ResourceProvisioner = {
  types: ['AWS::DynamoDB::Table'],
  provision: (state, { props, physicalName }) => provisionTable(state, props, physicalName),
};

async function provisionTable(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const { dynamodb } = state.clients;
  const name = String(props.TableName ?? physicalName);
  const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
  const billing = String(props.BillingMode ?? 'PROVISIONED');
  const throughput = (value: unknown): ProvisionedThroughput | undefined =>
    billing === 'PAY_PER_REQUEST'
      ? undefined
      : ((value as ProvisionedThroughput | undefined) ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
  const gsis = (props.GlobalSecondaryIndexes as Props[] | undefined)?.map((index): GlobalSecondaryIndex => ({
    IndexName: String(index.IndexName),
    KeySchema: index.KeySchema as KeySchemaElement[],
    Projection: index.Projection as GlobalSecondaryIndex['Projection'],
    ProvisionedThroughput: throughput(index.ProvisionedThroughput),
  }));
  const lsis = (props.LocalSecondaryIndexes as Props[] | undefined)?.map((index): LocalSecondaryIndex => ({
    IndexName: String(index.IndexName),
    KeySchema: index.KeySchema as KeySchemaElement[],
    Projection: index.Projection as LocalSecondaryIndex['Projection'],
  }));
  const attributeDefinitions = props.AttributeDefinitions as AttributeDefinition[];
  const streamViewType = stream?.StreamViewType as StreamViewType | undefined;
  let existed = false;
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: attributeDefinitions,
        KeySchema: props.KeySchema as KeySchemaElement[],
        BillingMode: billing === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
        ProvisionedThroughput: throughput(props.ProvisionedThroughput),
        GlobalSecondaryIndexes: gsis,
        LocalSecondaryIndexes: lsis,
        StreamSpecification: streamViewType
          ? { StreamEnabled: true, StreamViewType: streamViewType }
          : undefined,
        // SSE with a customer KMS key, point-in-time recovery, deletion protection and tags have no effect offline.
      }),
    );
  } catch (error) {
    // Provisioned before (a re-run, or an external emulator that outlived an earlier run): keep it and its items.
    if (!isAwsError(error, 'ResourceInUseException')) throw error;
    existed = true;
  }
  let table = await waitForTable(state, name);
  if (existed) {
    const keys = (schema: readonly KeySchemaElement[] | undefined) =>
      (schema ?? []).map((key) => `${key.AttributeName} ${key.KeyType}`).join(', ');
    if (keys(table.KeySchema) !== keys(props.KeySchema as KeySchemaElement[])) {
      // CloudFormation would replace the table (and lose its items): locally it stays as it is.
      state.log(
        `Warning: table ${name} keeps its keys (${keys(table.KeySchema)}); the template's are ` +
          `${keys(props.KeySchema as KeySchemaElement[])}: restart with a fresh emulator to apply them`,
      );
    }
    // Only what can be added without touching the items: new global indexes, a stream.
    const present = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    for (const index of gsis ?? []) {
      if (present.has(index.IndexName)) continue;
      await dynamodb.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: attributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
      state.log(`  table ${name}: index ${index.IndexName} added`);
      table = await waitForTable(state, name);
    }
    if (streamViewType && !table.StreamSpecification?.StreamEnabled) {
      await dynamodb.send(
        new UpdateTableCommand({
          TableName: name,
          StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType },
        }),
      );
      state.log(`  table ${name}: stream enabled`);
      table = await waitForTable(state, name);
    }
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    try {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    } catch (error) {
      // Already enabled (provisioned before).
      if (!/already enabled/i.test(String((error as Error).message))) throw error;
    }
  }
  if (table.LatestStreamArn) state.tablesByStreamArn.set(table.LatestStreamArn, name);
  return {
    ref: name,
    attributes: {
      Arn: table.TableArn ?? state.arn('dynamodb', `table/${name}`),
      ...(table.LatestStreamArn ? { StreamArn: table.LatestStreamArn } : {}),
    },
  };
}

async function waitForTable(state: ProvisionState, name: string): Promise<TableDescription> {
  const deadline = Date.now() + TABLE_READY_TIMEOUT_MS;
  for (;;) {
    const { Table } = await state.clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => !index.IndexStatus || index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return Table;
    if (Date.now() > deadline) throw new Error(`table ${name} is still ${Table?.TableStatus}`);
    await sleep(100);
  }
}
