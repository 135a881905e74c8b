// Quiet, deterministic Powertools in unit tests: no log noise, no EMF output, tracing off.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.POWERTOOLS_SERVICE_NAME ??= 'test';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'Test';
process.env.AWS_REGION ??= 'eu-west-1';
process.env.TABLE_NAME ??= 'users-table-test';
process.env.SCOPE_GRANTS ??= JSON.stringify({
  defaultScopes: ['api/users.read'],
  groups: { admins: ['api/users.admin'] },
});
process.env.TABLE_PARTITION_KEY ??= 'pk';
process.env.EVENT_SOURCE ??= 'shop.test';
// Handlers that call other services read their URL at cold start; unit tests never reach it (port 9: discard).
process.env.USERS_API_URL ??= 'http://127.0.0.1:9/v1/';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.CDK_MICROSERVICES_BUNDLE_CACHE ??= 'off'; // every test bundles for real, unless it tests the cache
