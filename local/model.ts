/**
 * The local runtime's view of the synthesized system, produced by the provisioner from the cloud assembly of
 * the `local` environment and consumed by the API gateway, the function runner, the queue pollers and the
 * outbox pipes. Every value is already resolved against the emulator (no CloudFormation intrinsics left).
 */

/** Where the AWS emulator listens and how to sign requests to it. */
export interface EmulatorEndpoint {
  /** e.g. http://127.0.0.1:5123 */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A Lambda function as the template defines it, runnable from its bundled asset. */
export interface LocalFunction {
  /** Unique key: `{stackName}/{logicalId}` of the AWS::Lambda::Function. */
  readonly key: string;
  /** Physical name given to it locally (also what registry `function/...` parameters hold). */
  readonly name: string;
  readonly stackName: string;
  readonly logicalId: string;
  /** The function's Description (e.g. `orders: POST /orders`). */
  readonly description: string;
  /** Absolute path of the bundled asset folder (contains index.mjs). */
  readonly assetDir: string;
  /** `index.handler`: file (without extension) and export name. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Environment from the template with every value resolved (table names, registry URLs, ...). */
  readonly environment: Readonly<Record<string, string>>;
  /** ARN of the function's execution role (its calls are authorized as this role). */
  readonly roleArn?: string;
}

/** A resource of the assembly with its properties resolved against the emulator (what IAM is evaluated on). */
export interface ResolvedResource {
  readonly stackName: string;
  readonly logicalId: string;
  /** CloudFormation type, e.g. `AWS::IAM::Policy`. */
  readonly type: string;
  /** Properties with every intrinsic function resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** What `Ref` gives. */
  readonly ref: string;
  /** What `Fn::GetAtt` gives (e.g. `Arn`). */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The template's Metadata of the resource. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** How a route is authorized (from the AWS::ApiGateway::Method). */
export type RouteAuthorization =
  | { readonly type: 'NONE' }
  | { readonly type: 'AWS_IAM' }
  | {
      readonly type: 'COGNITO_USER_POOLS';
      /** Pool the tokens must come from. */
      readonly userPoolId: string;
      /** Any one of these scopes is required (full scope strings, e.g. `api/orders.write`). */
      readonly scopes: readonly string[];
    };

/** One API Gateway method of a service's REST API. */
export interface LocalRoute {
  /** Service (REST API) this route belongs to: the first path segment locally, e.g. `orders`. */
  readonly service: string;
  readonly method: string;
  /** Resource path with `{param}` placeholders, e.g. `/orders/{id}`. */
  readonly resourcePath: string;
  readonly authorization: RouteAuthorization;
  /** Key of the function the route invokes (through its alias). */
  readonly functionKey: string;
  /** ARN API Gateway invokes (the alias ARN): what the function's permission for API Gateway must name. */
  readonly invokedArn?: string;
  /** Request parameters API Gateway requires, e.g. `method.request.querystring.customerId`. */
  readonly requiredParameters: readonly string[];
  /** JSON Schema (draft 4) the body must satisfy, when the method has a model. */
  readonly requestSchema?: Readonly<Record<string, unknown>>;
  /** Whether the gateway validates the body (RequestValidator with ValidateRequestBody). */
  readonly validateBody: boolean;
  /** Stage name, e.g. `v1`. */
  readonly stage: string;
  /**
   * Present when the method requires an API key (ApiKeyRequired): the keys of the usage plans on the route's stage
   * (locally a key's id is its value), one of which `x-api-key` must carry.
   */
  readonly apiKeys?: readonly string[];
}

/** A gateway response template (AWS::ApiGateway::GatewayResponse) of a service's API. */
export interface LocalGatewayResponse {
  readonly service: string;
  /** e.g. UNAUTHORIZED, ACCESS_DENIED, BAD_REQUEST_BODY, MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX */
  readonly type: string;
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, string>>;
  /** application/json template with `$context.*` placeholders. */
  readonly template?: string;
}

/** An SQS event source mapping (queue → function). */
export interface LocalQueueMapping {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly functionKey: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly maxConcurrency?: number;
  /** Visibility timeout of the queue, seconds. */
  readonly visibilityTimeoutSeconds: number;
}

/** A DynamoDB stream → EventBridge bus pipe (the transactional outbox). */
export interface LocalPipe {
  readonly name: string;
  readonly tableName: string;
  readonly streamArn: string;
  /** Filter patterns (EventBridge pattern syntax) applied to each stream record. */
  readonly filterPatterns: readonly Record<string, unknown>[];
  readonly eventBusName: string;
  /** Static source, or a JSON path into the record. */
  readonly source: string;
  /** Static detail-type, or a JSON path into the record (e.g. `$.dynamodb.NewImage.eventType.S`). */
  readonly detailType: string;
  readonly inputTemplate?: string;
  readonly batchSize: number;
  readonly maximumRetryAttempts: number;
  /** Where records go after the retries. */
  readonly deadLetterQueueUrl?: string;
}

/** Cognito resources the local runtime needs to check tokens and help users get them. */
export interface LocalIdentity {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** Key of the pre-token-generation (V2) trigger function, run locally because the emulator does not. */
  readonly preTokenGenerationFunctionKey?: string;
  readonly groups: readonly string[];
}

/** Everything the local runtime runs. */
export interface LocalSystem {
  readonly emulator: EmulatorEndpoint;
  readonly functions: ReadonlyMap<string, LocalFunction>;
  readonly routes: readonly LocalRoute[];
  readonly gatewayResponses: readonly LocalGatewayResponse[];
  readonly queueMappings: readonly LocalQueueMapping[];
  readonly pipes: readonly LocalPipe[];
  readonly identity?: LocalIdentity;
  /** Resource types found in the templates that the local runtime does not emulate (listed as a warning). */
  readonly notEmulated: readonly { readonly type: string; readonly count: number }[];
  /** Every resource of the assembly, resolved (roles, policies, keys, permissions, ... included). */
  readonly resources: readonly ResolvedResource[];
  /** The account id ARNs carry (the emulator's). */
  readonly accountId: string;
}

/** Runs a function locally: resolves to what the handler returned; rejects on error or timeout. */
export type Invoke = (functionKey: string, event: unknown) => Promise<unknown>;
