// `cdk-microservices/kit/dynamodb`: the shared, traced DynamoDB document client.
export * from '../dynamodb';
