/**
 * The credential registry: every credential Sundown knows of, by workload and by status, in
 * DynamoDB. The public face for handlers, revocation, the sweep, the CLI and bench; import from
 * here, not from the files behind it:
 * - credential-registry.ts: CredentialRegistry (record, get, list, transition, count by kind);
 * - credential-registry-items.ts: its item layout, index keys and batch helpers.
 * The credential schema stays with the other zod schemas, in lambdas/shared/schemas/credential.ts.
 */
export {
  CREDENTIALS_BY_STATUS,
  CREDENTIALS_BY_WORKLOAD,
  CredentialRegistry,
  type ListOptions,
  type Page,
  type TransitionRequest,
  workloadIndexItems,
  workloadIndexKey,
} from './credential-registry.ts';
