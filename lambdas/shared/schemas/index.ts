/**
 * One import point for the zod schemas Sundown shares between handlers, CLI and tests. The event
 * schemas (the envelope, each trigger's detail) live with their triggers: lambdas/triggers/index.ts.
 */
export * from './audit-record.ts';
export * from './credential.ts';
// audit-record.ts declares the same (identical) credential kinds; the explicit re-export settles
// the star-export ambiguity in favour of credential.ts.
export { CREDENTIAL_KINDS, type CredentialKind } from './credential.ts';
export * from './use-after-revoke.ts';
