/** The broker's invoke payloads and responses (shared by the function and the CLI). */
import { z } from 'zod';
import { CaArnSchema, PurposeSchema, RoleArnSchema, RoleNameSchema, WorkloadIdSchema } from './credential.ts';

export const IssueSessionRequestSchema = z.strictObject({
  action: z.literal('issue-session'),
  /** Role name or ARN. */
  role: z.union([RoleArnSchema, RoleNameSchema]),
  workloadId: WorkloadIdSchema,
  durationSeconds: z.number().int().positive().max(129_600).optional(),
  purpose: PurposeSchema.optional(),
});

export const IssueCertificateRequestSchema = z.strictObject({
  action: z.literal('issue-certificate'),
  caArn: CaArnSchema,
  workloadId: WorkloadIdSchema,
  /** PEM certificate signing request (public material). */
  csr: z.string().min(100).max(20_000).includes('-----BEGIN CERTIFICATE REQUEST-----'),
  days: z.number().int().min(1).max(3650).default(1),
  purpose: PurposeSchema.optional(),
});

export const BrokerRequestSchema = z.discriminatedUnion('action', [
  IssueSessionRequestSchema,
  IssueCertificateRequestSchema,
]);
export type BrokerRequest = z.infer<typeof BrokerRequestSchema>;

/** `sundown issue session --json` prints exactly this shape. */
export interface IssuedSession {
  credentialId: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  assumedRoleId: string;
}

export interface IssuedCertificate {
  credentialId: string;
  certificateArn: string;
  serial: string;
  caArn: string;
  certificate?: string;
  certificateChain?: string;
}

export type BrokerResponse =
  | { ok: true; session: IssuedSession }
  | { ok: true; certificate: IssuedCertificate }
  | { ok: false; error: string; code: 'invalid-request' | 'not-opted-in' | 'failed' };
