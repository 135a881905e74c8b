// `cdk-microservices/kit/http`: HTTP routes (`httpRoute`), the request and result types, and the mapping of
// error kinds to HTTP statuses (`httpStatusOf`, `HTTP_STATUS_BY_ERROR_KIND`).
export * from '../http';
