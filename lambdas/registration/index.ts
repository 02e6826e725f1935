/**
 * Registration: every way a credential gets into the registry (lambdas/registry/) ends here: the
 * broker, discovery from workload-start events (the role found by lambdas/workload-roles/),
 * `Credential Issued` events, and `sundown register`. Recording is idempotent and
 * audited once, as `issued`. The public face; import from here:
 * - record-credential.ts: recordRegistration(s), recordDiscoveredSession, and OPEN_ENDED (the
 *   expiry of a discovered session, which lasts as long as its workload).
 */
export {
  OPEN_ENDED,
  type RecordResult,
  type RegistrationRequest,
  recordDiscoveredSession,
  recordRegistration,
  recordRegistrations,
} from './record-credential.ts';
