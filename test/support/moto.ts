import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Agent, get } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { AttributeDefinition, GlobalSecondaryIndex, KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const INSTALL_HINT = 'Install it with: pip install "moto[server]"';
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_CHARS = 4_000;

/** A running moto server on a loopback port. */
export interface Moto {
  /** `http://127.0.0.1:{port}` */
  readonly endpoint: string;
  /** Stops the server by its process id (SIGTERM, then SIGKILL) and waits for it to exit. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers.
 * Throws (with moto's stderr and an install hint) if it is not installed or does not come up.
 */
export async function startMoto(): Promise<Moto> {
  if (!onPath('moto_server')) throw new Error(`moto_server is not on PATH. ${INSTALL_HINT}`);
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    detached: false,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Keep draining stderr (moto logs every request there) so a full pipe never blocks the server.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = () => stopProcess(child, exited);

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(`${endpoint}/moto-api/`))) {
    const failed = spawnError ?? (child.exitCode !== null || child.signalCode !== null);
    if (failed || Date.now() > deadline) {
      await stop();
      const why = spawnError
        ? spawnError.message
        : failed
          ? `exited with ${child.exitCode ?? child.signalCode}`
          : `did not answer within ${START_TIMEOUT_MS / 1000} s`;
      throw new Error(`moto_server on port ${port} ${why}. ${INSTALL_HINT}\nstderr:\n${stderr}`);
    }
    await sleep(100);
  }
  return { endpoint, stop };
}

/** Options of {@link dynamoClientFor}. */
export interface ClientOptions {
  /**
   * How many HTTP connections the client may open to moto.
   * @default 1 - moto applies one request at a time. moto 5.2 runs each request on its own thread and its
   * TransactWriteItems takes no lock (it checks conditions, writes, and on cancel restores a deep copy of the
   * table), so concurrent transactions can both pass a condition or undo each other. One connection gives the
   * serial order DynamoDB guarantees for transactions; callers still have many requests in flight at once.
   */
  readonly connections?: number;
}

/** A document client for the moto server at `endpoint` (dummy credentials, us-east-1). */
export function dynamoClientFor(endpoint: string, options: ClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: options.connections ?? 1 }) },
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

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A port that was free on 127.0.0.1 a moment ago (bound to port 0, read, released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/** Whether a GET to `url` gets any HTTP answer (no keep-alive, so no socket outlives the check). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 1_000 }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  signal(child.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS)));
  const gone = await Promise.race([exited.then(() => true), grace]);
  clearTimeout(timer);
  if (!gone) {
    signal(child.pid, 'SIGKILL');
    await exited;
  }
}

/** Sends `sig` to `pid`, ignoring a process that is already gone. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
