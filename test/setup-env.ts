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
