/**
 * Use-after-revoke: the CloudTrail error events Sundown inspects (loose: AWS adds fields; only what
 * is read is named) and the alert Sundown puts on its own bus (strict: it leaves Sundown).
 */
import { z } from 'zod';
import { IsoDateTimeSchema } from '../../triggers/envelope.ts';

/** CloudTrail `errorCode` values of a refused call: IAM/STS/S3, JSON APIs, EC2. */
export const ACCESS_DENIED_ERROR_CODES = [
  'AccessDenied',
  'AccessDeniedException',
  'Client.UnauthorizedOperation',
] as const;

/** Detail type of the alert on Sundown's bus (source `sundown`). */
export const USE_AFTER_REVOKE_DETAIL_TYPE = 'Use After Revoke';

const Short = (max: number) => z.string().min(1).max(max);

/** The `detail` of an `AWS API Call via CloudTrail` event that failed with access denied. */
export const CloudTrailErrorDetailSchema = z.object({
  eventSource: Short(256),
  eventName: Short(256),
  eventTime: IsoDateTimeSchema.optional(),
  errorCode: z.enum(ACCESS_DENIED_ERROR_CODES),
  errorMessage: z.string().max(4096).optional(),
  sourceIPAddress: Short(256).optional(),
  userAgent: z.string().max(1024).optional(),
  userIdentity: z.object({
    type: Short(64),
    principalId: Short(256).optional(),
    arn: Short(2048).optional(),
    accessKeyId: Short(128).optional(),
    sessionContext: z
      .object({
        sessionIssuer: z.object({ type: Short(64).optional(), arn: Short(2048).optional() }).optional(),
        attributes: z.object({ creationDate: IsoDateTimeSchema.optional() }).optional(),
      })
      .optional(),
  }),
});
export type CloudTrailErrorDetail = z.infer<typeof CloudTrailErrorDetailSchema>;

/** The alert: identifiers and the attempt, never credentials. */
export const UseAfterRevokeDetailSchema = z.strictObject({
  workloadId: Short(2048),
  roleArn: Short(2048),
  sessionName: Short(64),
  principalId: Short(256),
  /** `eventSource:eventName`, e.g. `iam.amazonaws.com:GetRole`. */
  api: Short(600),
  errorCode: z.enum(ACCESS_DENIED_ERROR_CODES),
  sourceIPAddress: Short(256).optional(),
  userAgent: z.string().max(1024).optional(),
  attemptAt: IsoDateTimeSchema,
  /** When the deny took effect for this session (its end: sessions issued before it are denied). */
  revokedFrom: IsoDateTimeSchema,
  /** Start of the aggregation window this alert opens; later attempts in it are only counted. */
  windowStart: IsoDateTimeSchema,
  windowSeconds: z.number().int().positive(),
});
export type UseAfterRevokeDetail = z.infer<typeof UseAfterRevokeDetailSchema>;
