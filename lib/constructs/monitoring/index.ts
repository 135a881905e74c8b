// Monitoring of the platform and its services: one file per AWS service, after cdk-monitoring-constructs.
export * from './alarm-destinations';
export * from './alarm-timing';
export * from './api-gateway';
export * from './cognito';
export * from './dynamodb';
export * from './eventbridge';
export * from './lambda';
export * from './logs-insights';
export * from './pipes';
export * from './platform-dashboard';
export * from './service-monitoring';
export * from './slo';
export * from './sqs';
