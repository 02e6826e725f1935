/** One import point for every zod schema Sundown shares between handlers, CLI and tests. */
export * from './audit-record.ts';
export * from './credential.ts';
// audit-record.ts declares the same (identical) credential kinds; the explicit re-export settles
// the star-export ambiguity in favour of credential.ts.
export { CREDENTIAL_KINDS, type CredentialKind } from './credential.ts';
export * from './events.ts';
export * from './use-after-revoke.ts';
