// `cdk-microservices/kit/http`: HTTP routes (`httpRoute`), the request and result types.
export * from '../http';
