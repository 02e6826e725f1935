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
