import type { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { AlarmWithAnnotation, MonitoringFacade } from 'cdk-monitoring-constructs';
import { ApiGatewayMonitoring, LatencyType } from 'cdk-monitoring-constructs';
import type { AlarmTiming } from './alarm-timing';
import { CRITICAL } from './alarm-timing';

/** What raises the alarms of a REST API stage. */
export interface ApiAlarmThresholds {
  /** Share of requests answered with a 5xx, in percent, above which a period breaches. */
  readonly maxServerErrorPercent: number;
  /** p99 latency (API Gateway `Latency`, request in to response out) above which a period breaches. */
  readonly maxLatencyP99: Duration;
}

/**
 * Monitors a REST API stage with cdk-monitoring-constructs' `ApiGatewayMonitoring`: the golden signals (requests
 * per second, latency p50/p90/p99, 4xx and 5xx counts and rates), by the metrics' `ApiName` and `Stage`
 * dimensions. Alarms: the 5xx rate (`5XXError` Average, the share of requests) above `maxServerErrorPercent` and
 * the p99 `Latency` above `maxLatencyP99`, per `timing`.
 */
export function monitorApi(
  facade: MonitoringFacade,
  api: apigateway.IRestApi,
  stageName: string,
  thresholds: ApiAlarmThresholds,
  timing: AlarmTiming,
): { readonly monitoring: ApiGatewayMonitoring; readonly alarms: AlarmWithAnnotation[] } {
  const monitoring = new ApiGatewayMonitoring(facade, {
    api,
    apiStage: stageName,
    alarmFriendlyName: 'api',
    humanReadableName: 'API',
    latencyTypesToRender: [LatencyType.P50, LatencyType.P90, LatencyType.P99],
    add5XXFaultRateAlarm: {
      [CRITICAL]: { maxErrorRate: thresholds.maxServerErrorPercent / 100, ...timing },
    },
    addLatencyP99Alarm: { [CRITICAL]: { maxLatency: thresholds.maxLatencyP99, ...timing } },
  });
  facade.addSegment(monitoring);
  return { monitoring, alarms: monitoring.createdAlarms() };
}
