import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { redactingReplacer } from './redact.ts';

/** One logger and one metrics instance per function; secrets are redacted by the replacer. */
export const logger = new Logger({ serviceName: 'sundown', jsonReplacerFn: redactingReplacer });
export const metrics = new Metrics({ namespace: 'Sundown', serviceName: 'sundown' });

/** Publishes what the invocation recorded; stays quiet when it recorded nothing. */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * Records a metric in embedded metric format under the default dimensions (`service`), which is
 * what the stack's alarms watch. With `dimensions`, the same value is also published at once as a
 * separate metric with those dimensions added (e.g. `kind` and `outcome`) for the dashboard's
 * breakdowns: Powertools would otherwise emit the buffered metric under that dimension set only.
 */
export function recordMetric(
  name: string,
  unit: 'Count' | 'Milliseconds' | 'Percent',
  value: number,
  dimensions?: Record<string, string>,
): void {
  metrics.addMetric(name, unit, value);
  if (dimensions && Object.keys(dimensions).length > 0) {
    metrics.singleMetric().addDimensions(dimensions).addMetric(name, unit, value);
  }
}
