/**
 * The revocation canary and the revocation drill: issue two sessions through the broker, end one
 * workload, time until its session is denied, and check the other still works and the audit chain.
 * The CLI runs the drill (`sundown drill`); the scheduled canary runs it and publishes metrics. The
 * public face for code outside this folder; import from here, not from the files behind it:
 * - handler.ts: the canary's Lambda entry point (the composition root);
 * - canary.ts: one canary run, the drill's outcome as the metrics the stack alarms on;
 * - drill.ts: the drill itself, every outside effect injected (no I/O of its own);
 * - drill-effects.ts: the canary's effects for the drill on AWS (issue through the broker's URL,
 *   end on Sundown's bus, read the audit trail);
 * - probe.ts: whether a session is denied, by a real iam:GetRole with it.
 */
export { CANARY_DIMENSIONS, CANARY_METRICS, type CanaryDeps, runCanary } from './canary.ts';
export {
  chainComplete,
  type DrillDeps,
  type DrillReport,
  type DrillSession,
  drillSessionOf,
  type ProbeResult,
  runDrill,
} from './drill.ts';
export { brokerIssuer, CANARY_REASON } from './drill-effects.ts';
export { awsProbe, PROBE_ACTION } from './probe.ts';
