import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { traceAwsClient } from './tracing';

/**
 * The function's DynamoDB document client, created once per execution environment and traced by X-Ray.
 * The SDK honours AWS_ENDPOINT_URL, which is how the local runtime points it at the emulator.
 */
export const documentClient = DynamoDBDocumentClient.from(traceAwsClient(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});
