import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools';

/**
 * The function's DynamoDB document client, created once per execution environment and traced by X-Ray
 * (Powertools Tracer's `captureAWSv3Client`: one `aws` subsegment per call, the trace header passed on).
 * The SDK honours AWS_ENDPOINT_URL, which is how the local runtime points it at the emulator.
 */
export const documentClient = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
  marshallOptions: { removeUndefinedValues: true },
});
