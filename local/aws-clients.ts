import { Agent } from 'node:http';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DescribeEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { EmulatorEndpoint } from './model';

/** Account id moto uses unless told otherwise (what {@link emulatorAccountIdOf} falls back to). */
const DEFAULT_ACCOUNT_ID = '123456789012';

/** Options of {@link EmulatorClients}. */
export interface EmulatorClientsOptions {
  /**
   * Connections each client may keep open to the emulator (keep-alive). A queue poller needs one per
   * concurrent long poll plus its deletes.
   * @default 50
   */
  readonly maxSockets?: number;
}

/** The configuration every SDK v3 client of the local runtime gets for an emulator: endpoint, region, credentials. */
export interface EmulatorClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly requestHandler: { readonly httpAgent: Agent };
}

/**
 * The client configuration for an emulator, with its own keep-alive agent (one per client, so that one
 * service's long polls never wait for another's sockets).
 */
export function emulatorClientConfig(
  emulator: EmulatorEndpoint,
  options: EmulatorClientsOptions = {},
): EmulatorClientConfig {
  return {
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 50 }) },
  };
}

/**
 * The AWS SDK v3 clients the local runtime talks to one emulator with, each created on first use and kept
 * (with its keep-alive connections) until {@link EmulatorClients.destroy}. Whoever creates the set destroys it;
 * parts that are handed a set (an outbox pipe given the runtime's) leave it open.
 */
export class EmulatorClients {
  private dynamodbClient?: DynamoDBClient;
  private streamsClient?: DynamoDBStreamsClient;
  private sqsClient?: SQSClient;
  private eventsClient?: EventBridgeClient;
  private cognitoClient?: CognitoIdentityProviderClient;
  private ssmClient?: SSMClient;
  private secretsClient?: SecretsManagerClient;

  /**
   * @param emulator - where the emulator listens and the credentials to sign with
   * @param options - connection limits
   */
  constructor(
    readonly emulator: EmulatorEndpoint,
    private readonly options: EmulatorClientsOptions = {},
  ) {}

  /** DynamoDB (tables, items). */
  get dynamodb(): DynamoDBClient {
    return (this.dynamodbClient ??= new DynamoDBClient(this.config()));
  }

  /** DynamoDB Streams (the outbox pipes' source). */
  get streams(): DynamoDBStreamsClient {
    return (this.streamsClient ??= new DynamoDBStreamsClient(this.config()));
  }

  /** SQS (queues, event source mappings, dead-letter queues). */
  get sqs(): SQSClient {
    return (this.sqsClient ??= new SQSClient(this.config()));
  }

  /** EventBridge (buses, rules, targets, PutEvents). */
  get events(): EventBridgeClient {
    return (this.eventsClient ??= new EventBridgeClient(this.config()));
  }

  /** Cognito user pools (pools, clients, resource servers, groups, users). */
  get cognito(): CognitoIdentityProviderClient {
    return (this.cognitoClient ??= new CognitoIdentityProviderClient(this.config()));
  }

  /** SSM Parameter Store (the service registry). */
  get ssm(): SSMClient {
    return (this.ssmClient ??= new SSMClient(this.config()));
  }

  /** Secrets Manager (the services' secrets). */
  get secretsManager(): SecretsManagerClient {
    return (this.secretsClient ??= new SecretsManagerClient(this.config()));
  }

  /** Closes every client created so far (and its connections); a client used afterwards is created anew. */
  destroy(): void {
    for (const client of [
      this.dynamodbClient,
      this.streamsClient,
      this.sqsClient,
      this.eventsClient,
      this.cognitoClient,
      this.ssmClient,
      this.secretsClient,
    ]) {
      client?.destroy();
    }
    this.dynamodbClient = undefined;
    this.streamsClient = undefined;
    this.sqsClient = undefined;
    this.eventsClient = undefined;
    this.cognitoClient = undefined;
    this.ssmClient = undefined;
  }

  private config(): EmulatorClientConfig {
    return emulatorClientConfig(this.emulator, this.options);
  }
}

/**
 * The account id the emulator works in: the one in the ARN of its default event bus (every emulator has one,
 * in the caller's account); moto's default when it cannot answer.
 */
export async function emulatorAccountIdOf(clients: EmulatorClients): Promise<string> {
  try {
    const { Arn } = await clients.events.send(new DescribeEventBusCommand({}));
    return /^arn:[^:]+:events:[^:]*:(\d{12}):/.exec(Arn ?? '')?.[1] ?? DEFAULT_ACCOUNT_ID;
  } catch {
    return DEFAULT_ACCOUNT_ID;
  }
}

/** Whether `error` is an AWS error answered with one of `names` (the SDK's exception name, e.g. `ResourceInUseException`). */
export function isAwsError(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}
