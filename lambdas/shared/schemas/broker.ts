/** The broker's request bodies, caller identity and responses (shared by the function and the CLI). */
import { isIP } from 'node:net';
import { z } from 'zod';
import { CaArnSchema, PurposeSchema, RoleArnSchema, RoleNameSchema, WorkloadIdSchema } from './credential.ts';

/**
 * Why the caller asks for a credential: required, 1-256 characters, one line. Control characters
 * (C0, DEL, C1), invisible format characters (zero-width, bidi overrides), line and paragraph
 * separators and lone surrogates are REJECTED, not stripped: the audit trail must hold exactly what
 * the caller sent, and a reason that could forge a line or hide text in a terminal is refused.
 */
export const BROKER_REASON_MAX = 256;
export const BrokerReasonSchema = z
  .string()
  .min(1, { message: 'is required (1-256 characters)' })
  .max(BROKER_REASON_MAX, { message: `must be at most ${BROKER_REASON_MAX} characters` })
  .regex(/^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]*$/u, {
    message: 'must be one line of visible text: control, format and separator characters are not allowed',
  })
  .refine((value) => value.trim().length > 0, { message: 'must not be blank' });

export const IssueSessionRequestSchema = z.strictObject({
  action: z.literal('issue-session'),
  /** Role name or ARN. */
  role: z.union([RoleArnSchema, RoleNameSchema]),
  workloadId: WorkloadIdSchema,
  durationSeconds: z.number().int().positive().max(129_600).optional(),
  purpose: PurposeSchema.optional(),
  reason: BrokerReasonSchema,
});

export const IssueCertificateRequestSchema = z.strictObject({
  action: z.literal('issue-certificate'),
  caArn: CaArnSchema,
  workloadId: WorkloadIdSchema,
  /** PEM certificate signing request (public material). */
  csr: z.string().min(100).max(20_000).includes('-----BEGIN CERTIFICATE REQUEST-----'),
  days: z.number().int().min(1).max(3650).default(1),
  purpose: PurposeSchema.optional(),
  reason: BrokerReasonSchema,
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

/**
 * Who asked, as AWS verified it: the SigV4-authenticated principal of a Function URL request
 * (`requestContext.authorizer.iam`) and the source IP Lambda saw. Never taken from the request body.
 */
export const BrokerCallerSchema = z.strictObject({
  /** IAM user ARN or STS assumed-role ARN (`userArn`). */
  principalArn: z
    .string()
    .max(2048)
    .regex(/^arn:(?:aws|aws-cn|aws-us-gov):(?:iam|sts)::\d{12}:[\w+=,.@/:-]+$/, {
      message: 'must be an IAM or STS principal ARN',
    }),
  accountId: z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit account ID' }),
  /** The principal's unique ID (`AIDA...` or `AROA...:session`). */
  callerId: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\w+=,.@:-]+$/, { message: 'must be an IAM unique ID' }),
  sourceIp: z
    .string()
    .max(45)
    .refine((ip) => isIP(ip) !== 0, { message: 'must be an IPv4 or IPv6 address' })
    .optional(),
  via: z.enum(['function-url']),
});
export type BrokerCaller = z.infer<typeof BrokerCallerSchema>;

/** What the broker records about a request besides the credential: who asked, from where, why. */
export interface BrokerRequester {
  caller: BrokerCaller;
  reason: string;
}

/**
 * The parts of a Lambda Function URL event (payload format 2.0) the broker reads. Lambda builds
 * `requestContext`; with AuthType AWS_IAM it rejects unsigned or wrongly signed requests (403)
 * before the function runs, and `authorizer.iam` names the verified principal.
 */
export const FunctionUrlEventSchema = z.object({
  version: z.literal('2.0'),
  requestContext: z.object({
    http: z.object({ method: z.string(), sourceIp: z.string().optional() }),
    authorizer: z
      .object({
        iam: z
          .object({
            userArn: z.string().optional(),
            accountId: z.string().optional(),
            callerId: z.string().optional(),
          })
          .nullish(),
      })
      .nullish(),
  }),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});
export type FunctionUrlEvent = z.infer<typeof FunctionUrlEventSchema>;

export const BROKER_ERROR_CODES = ['invalid-request', 'unauthenticated', 'not-opted-in', 'failed'] as const;
export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

/** The HTTP status a Function URL response carries for each error code. */
export const BROKER_HTTP_STATUS: Record<BrokerErrorCode, number> = {
  'invalid-request': 400,
  unauthenticated: 401,
  'not-opted-in': 403,
  failed: 500,
};

export type BrokerResponse =
  | { ok: true; session: IssuedSession }
  | { ok: true; certificate: IssuedCertificate }
  | { ok: false; error: string; code: BrokerErrorCode };
