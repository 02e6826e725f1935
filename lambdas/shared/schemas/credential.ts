/**
 * Credential registrations (what a broker or an event tells us was issued) and the registry record
 * we store. Only identifiers: registrations are strict objects, so a secret access key, session
 * token or private key sent by mistake is refused instead of stored.
 */
import { z } from 'zod';
import { IsoDateTimeSchema, TriggerSchema } from '../../triggers/envelope.ts';
import {
  ACCOUNT_PATTERN,
  CREDENTIAL_ID_PATTERN,
  isWorkloadIdSyntax,
  REGION_PATTERN,
  SESSION_NAME_PATTERN,
  WORKLOAD_KINDS,
} from '../domain/workload-id.ts';

export const CREDENTIAL_KINDS = ['role-session', 'access-key', 'certificate'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export const CREDENTIAL_STATUSES = ['active', 'revoking', 'revoked', 'failed', 'expired', 'skipped'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export const CREDENTIAL_ISSUERS = ['broker', 'discovery', 'event', 'cli'] as const;
export type CredentialIssuer = (typeof CREDENTIAL_ISSUERS)[number];

const PARTITION = '(?:aws|aws-cn|aws-us-gov)';
/** IAM names and path segments restricted to IAM's name charset: safe inside policy documents. */
const IAM_NAME = '[\\w+=,.@-]';

export const RoleArnSchema = z
  .string()
  .max(1024)
  .regex(new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/(?:${IAM_NAME}+/)*${IAM_NAME}{1,64}$`), {
    message: 'must be an IAM role ARN arn:<partition>:iam::<12 digits>:role/<path/>name',
  });
export const RoleNameSchema = z.string().regex(new RegExp(`^${IAM_NAME}{1,64}$`));
export const RoleIdSchema = z
  .string()
  .regex(/^AROA[A-Z0-9]{12,124}$/, { message: 'must be a role id AROA...' });
export const SessionNameSchema = z.string().regex(SESSION_NAME_PATTERN, {
  message: 'must be a role session name of 2-64 characters from [\\w+=,.@-]',
});
export const UserNameSchema = z.string().regex(new RegExp(`^${IAM_NAME}{1,64}$`), {
  message: 'must be an IAM user name of 1-64 characters from [\\w+=,.@-]',
});
/**
 * An IAM path (`/` or `/ci/team-a/`), restricted like the path segments of {@link RoleArnSchema} to IAM's
 * name characters, so it is safe inside ARNs and policy documents.
 */
export const IamPathSchema = z
  .string()
  .max(512)
  .regex(new RegExp(`^/(?:${IAM_NAME}+/)*$`), {
    message: 'must be an IAM path: "/" or "/segment/.../" of characters from [\\w+=,.@-]',
  });
export const AccessKeyIdSchema = z.string().regex(/^(?:AKIA|ASIA)[A-Z0-9]{12,124}$/, {
  message: 'must be an access key id AKIA.../ASIA... of 16-128 characters [A-Z0-9]',
});
export const TemporaryAccessKeyIdSchema = z.string().regex(/^ASIA[A-Z0-9]{12,124}$/, {
  message: 'must be a temporary access key id ASIA... of 16-128 characters [A-Z0-9]',
});
export const CaArnSchema = z
  .string()
  .regex(
    /^arn:(?:aws|aws-cn|aws-us-gov):acm-pca:[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}:\d{12}:certificate-authority\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    { message: 'must be an ACM Private CA ARN' },
  );
export const SerialSchema = z
  .string()
  .max(128)
  .regex(/^[0-9A-Fa-f]+(?::[0-9A-Fa-f]+)*$/, { message: 'must be a hex serial (colons allowed)' });
export const WorkloadIdSchema = z.string().min(1).max(2048).refine(isWorkloadIdSyntax, {
  message: 'must be a workload ARN, a bare instance id, or 1-256 characters from [A-Za-z0-9+=,.@:/_-]',
});
/** Free text, but single-line and short: it ends up in audit records and logs. */
export const PurposeSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' });

const common = {
  workloadId: WorkloadIdSchema,
  issuedAt: IsoDateTimeSchema.optional(),
  expiresAt: IsoDateTimeSchema.optional(),
  purpose: PurposeSchema.optional(),
};

export const RoleSessionRegistrationSchema = z.strictObject({
  kind: z.literal('role-session'),
  roleArn: RoleArnSchema,
  sessionName: SessionNameSchema,
  accessKeyId: TemporaryAccessKeyIdSchema.optional(),
  ...common,
});
export const AccessKeyRegistrationSchema = z.strictObject({
  kind: z.literal('access-key'),
  userName: UserNameSchema,
  /** The user's IAM path, when known: its ARN is arn:<partition>:iam::<account>:user<userPath><userName>. */
  userPath: IamPathSchema.optional(),
  accessKeyId: AccessKeyIdSchema,
  ...common,
});
export const CertificateRegistrationSchema = z.strictObject({
  kind: z.literal('certificate'),
  caArn: CaArnSchema,
  serial: SerialSchema,
  ...common,
});

export const CredentialRegistrationSchema = z.discriminatedUnion('kind', [
  RoleSessionRegistrationSchema,
  AccessKeyRegistrationSchema,
  CertificateRegistrationSchema,
]);
export type CredentialRegistration = z.infer<typeof CredentialRegistrationSchema>;

/** `sundown` / `Credential Issued` detail: a registration, never the secret parts. */
export const CredentialIssuedDetailSchema = CredentialRegistrationSchema;

/**
 * Paths of members whose names look like secret material (secretAccessKey, SessionToken,
 * privateKey, password...), searched a few levels deep. Used to reject with a clear reason that
 * names the key and never echoes the value.
 */
export function findSecretLikeKeys(value: unknown, path = '', depth = 0): string[] {
  if (depth > 4 || value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    const norm = key.toLowerCase().replace(/[^a-z]/g, '');
    if (/secret|sessiontoken|securitytoken|privatekey|password|^token$/.test(norm)) found.push(here);
    found.push(...findSecretLikeKeys(child, here, depth + 1));
  }
  return found;
}

/**
 * The registry item. Unknown attributes (table keys, future fields) are stripped on parse rather
 * than refused, so reading a stored item never fails on them and nothing unlisted passes through.
 */
export const CredentialRecordSchema = z
  .object({
    credentialId: z.string().regex(CREDENTIAL_ID_PATTERN),
    kind: z.enum(CREDENTIAL_KINDS),
    workloadId: WorkloadIdSchema,
    workloadKind: z.enum(WORKLOAD_KINDS),
    status: z.enum(CREDENTIAL_STATUSES),
    statusReason: z.string().max(1024).optional(),
    issuedAt: IsoDateTimeSchema,
    expiresAt: IsoDateTimeSchema,
    purpose: PurposeSchema.optional(),
    issuer: z.enum(CREDENTIAL_ISSUERS),
    account: z.string().regex(ACCOUNT_PATTERN),
    region: z.string().regex(REGION_PATTERN),
    roleArn: RoleArnSchema.optional(),
    roleId: RoleIdSchema.optional(),
    roleName: RoleNameSchema.optional(),
    sessionName: SessionNameSchema.optional(),
    reusableSessionName: z.boolean().optional(),
    accessKeyId: AccessKeyIdSchema.optional(),
    userName: UserNameSchema.optional(),
    /** Optional (older records lack it): the user's IAM path; absent means "not known", not "/". */
    userPath: IamPathSchema.optional(),
    caArn: CaArnSchema.optional(),
    serial: SerialSchema.optional(),
    endedAt: IsoDateTimeSchema.optional(),
    revokeRequestedAt: IsoDateTimeSchema.optional(),
    revokedAt: IsoDateTimeSchema.optional(),
    trigger: TriggerSchema.optional(),
    dryRun: z.boolean().optional(),
    ttl: z.number().int().positive().optional(),
    /** Broker-issued only: the principal AWS authenticated for the request (see BrokerCallerSchema). */
    callerArn: z.string().max(2048).optional(),
    callerAccount: z.string().regex(ACCOUNT_PATTERN).optional(),
    callerId: z.string().max(256).optional(),
    /** Broker-issued only: the request's source IP as Lambda saw it. */
    sourceIp: z.string().max(45).optional(),
    /** Broker-issued only: the reason the caller gave (validated by BrokerReasonSchema). */
    requestReason: z.string().max(256).optional(),
  })
  .superRefine((record, ctx) => {
    const required: Record<CredentialKind, (keyof typeof record)[]> = {
      'role-session': ['roleArn', 'sessionName'],
      'access-key': ['userName', 'accessKeyId'],
      certificate: ['caArn', 'serial'],
    };
    for (const key of required[record.kind]) {
      if (record[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is required for a ${record.kind} record` });
      }
    }
    const prefix = { 'role-session': 'rs-', 'access-key': 'ak-', certificate: 'ct-' }[record.kind];
    if (!record.credentialId.startsWith(prefix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentialId'],
        message: `must start with ${prefix} for a ${record.kind} record`,
      });
    }
  });
export type CredentialRecord = z.infer<typeof CredentialRecordSchema>;
