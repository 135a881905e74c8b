import { Lazy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** What to replace in the saved correlation-id query before running it. */
export const CORRELATION_ID_PLACEHOLDER = 'REPLACE-WITH-CORRELATION-ID';

/**
 * One request across services: every log line carrying the correlation id, oldest first. Handlers log it as
 * `correlationId` (Powertools logger keys set by the runtime kit's HTTP handler and event consumer, from the
 * `x-correlation-id` header, else the API Gateway request id, then from each event's envelope); API access
 * logs carry the API Gateway `requestId`, which is the correlation id when the client sent none.
 */
export function correlationIdQuery(correlationId = CORRELATION_ID_PLACEHOLDER): logs.QueryString {
  return new logs.QueryString({
    fields: ['@timestamp', 'service', 'level', 'message', 'correlationId', 'xray_trace_id', '@log'],
    filterStatements: [`correlationId = "${correlationId}" or requestId = "${correlationId}"`],
    sort: '@timestamp asc',
    limit: 1000,
  });
}

/**
 * Errors by service: log lines at `ERROR` or `CRITICAL` (Powertools logger) and invocations Lambda ended in
 * error or time-out (its JSON `platform.runtimeDone` record), counted by service (the log group when the line
 * has no `service` key), most first.
 */
export function errorsByServiceQuery(): logs.QueryString {
  return new logs.QueryString({
    fields: ['@timestamp', 'coalesce(service, @log) as source'],
    filterStatements: [
      `level in ["ERROR", "CRITICAL"] or (type = "platform.runtimeDone" and record.status != "success")`,
    ],
    statsStatements: ['count(*) as errors by source'],
    sort: 'errors desc',
  });
}

/** Properties of {@link LogQueries}. */
export interface LogQueriesProps {
  /**
   * Prefix of the saved queries' names; `/` makes folders in the Logs Insights console, e.g. `Shop-prod/orders`.
   */
  readonly namePrefix: string;
  /**
   * Log groups the queries run over; more can be added with {@link LogQueries.addLogGroup}.
   * @default - none yet: chosen in the console when the query runs
   */
  readonly logGroups?: logs.ILogGroup[];
}

/**
 * Saved CloudWatch Logs Insights queries (`logs.QueryDefinition`): `{namePrefix}/request-by-correlation-id`
 * ({@link correlationIdQuery}) and `{namePrefix}/errors-by-service` ({@link errorsByServiceQuery}), over the log
 * groups given and added (resolved at synth, so groups added after creation are included).
 */
export class LogQueries extends Construct {
  /** One request across services by correlation id. */
  public readonly requestByCorrelationId: logs.QueryDefinition;
  /** Errors by service. */
  public readonly errorsByService: logs.QueryDefinition;
  private readonly logGroups: logs.ILogGroup[];

  constructor(scope: Construct, id: string, props: LogQueriesProps) {
    super(scope, id);
    this.logGroups = [...(props.logGroups ?? [])];
    this.requestByCorrelationId = this.define(
      'RequestByCorrelationId',
      `${props.namePrefix}/request-by-correlation-id`,
      correlationIdQuery(),
    );
    this.errorsByService = this.define(
      'ErrorsByService',
      `${props.namePrefix}/errors-by-service`,
      errorsByServiceQuery(),
    );
  }

  /** Adds a log group to both queries. */
  public addLogGroup(...logGroups: logs.ILogGroup[]): void {
    this.logGroups.push(...logGroups);
  }

  private define(id: string, name: string, queryString: logs.QueryString): logs.QueryDefinition {
    const definition = new logs.QueryDefinition(this, id, { queryDefinitionName: name, queryString });
    (definition.node.defaultChild as logs.CfnQueryDefinition).logGroupNames = Lazy.list(
      { produce: () => this.logGroups.map((group) => group.logGroupName) },
      { omitEmpty: true },
    );
    return definition;
  }
}
