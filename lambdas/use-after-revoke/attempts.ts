/**
 * Use-after-revoke, pure part: which role session a CloudTrail access-denied event names, and
 * whether Sundown denied that very session (not a later one that reuses its name).
 *
 * The join key is the session issuer's role ARN (what Sundown keys its deny entries by) and the
 * session name from `principalId` (`AROA…:<session name>`, the value the deny matches as
 * `aws:userid`). The role's unique ID is not needed: CloudTrail names the issuing role by ARN,
 * so no iam:GetRole per event and nothing to store at record time. A session counts as revoked
 * when a deny entry names its session name and its `creationDate` (≈ aws:TokenIssueTime) is
 * before the entry's bound: exactly the sessions IAM now refuses.
 */
import type { CloudTrailErrorDetail } from '../shared/schemas/use-after-revoke.ts';

const PRINCIPAL_ID = /^(AROA[A-Z0-9]{12,124}):([\w+=,.@-]{2,64})$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** One refused call by a role session, as Sundown needs it. */
export interface SessionAttempt {
  roleArn: string;
  roleId: string;
  sessionName: string;
  principalId: string;
  /** When the session was issued, if CloudTrail says. */
  issuedAt?: string;
  api: string;
  errorCode: CloudTrailErrorDetail['errorCode'];
  sourceIPAddress?: string;
  userAgent?: string;
  attemptAt: string;
}

export type AttemptParse =
  | { kind: 'attempt'; attempt: SessionAttempt }
  /** Not a role session (a user, a service, root): Sundown never revokes those by session. */
  | { kind: 'not-a-session'; reason: string }
  | { kind: 'invalid'; reason: string };

/** Reads the role session out of a validated CloudTrail error detail. */
export function attemptOf(detail: CloudTrailErrorDetail, eventTime: string): AttemptParse {
  const who = detail.userIdentity;
  if (who.type !== 'AssumedRole') return { kind: 'not-a-session', reason: `identity type ${who.type}` };
  const match = PRINCIPAL_ID.exec(who.principalId ?? '');
  if (!match) {
    return {
      kind: 'invalid',
      reason: `principalId ${JSON.stringify((who.principalId ?? '').slice(0, 80))} is not AROA…:<session name>`,
    };
  }
  const roleArn = who.sessionContext?.sessionIssuer?.arn ?? '';
  if (!ROLE_ARN.test(roleArn)) {
    return {
      kind: 'invalid',
      reason: `sessionContext.sessionIssuer.arn ${JSON.stringify(roleArn.slice(0, 120))} is not a role ARN`,
    };
  }
  const issuedAt = who.sessionContext?.attributes?.creationDate;
  return {
    kind: 'attempt',
    attempt: {
      roleArn,
      roleId: match[1] as string,
      sessionName: match[2] as string,
      principalId: match[0],
      ...(issuedAt ? { issuedAt: new Date(issuedAt).toISOString() } : {}),
      api: `${detail.eventSource}:${detail.eventName}`.slice(0, 600),
      errorCode: detail.errorCode,
      ...(detail.sourceIPAddress ? { sourceIPAddress: detail.sourceIPAddress } : {}),
      ...(detail.userAgent ? { userAgent: detail.userAgent.slice(0, 1024) } : {}),
      attemptAt: new Date(detail.eventTime ?? eventTime).toISOString(),
    },
  };
}

/** A deny entry as stored (see revocation/store.ts): the session name and its bound. */
export interface RevokedEntry {
  sessionName: string;
  /** Sessions issued before this instant are denied. */
  notAfter: string;
  workloadId: string;
}

/**
 * The deny entry that covers this attempt's session, or undefined (never revoked, or a newer
 * session reusing the name). Without a creation date, any entry for the name counts.
 */
export function revokedEntryFor(
  attempt: SessionAttempt,
  entries: readonly RevokedEntry[],
): RevokedEntry | undefined {
  const issued = attempt.issuedAt ? Date.parse(attempt.issuedAt) : undefined;
  const covering = entries.filter(
    (e) => e.sessionName === attempt.sessionName && (issued === undefined || issued < Date.parse(e.notAfter)),
  );
  // The earliest bound that covers the session is the end that revoked it.
  return covering.sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0];
}

/** Start of the aggregation window holding `at` (windows are aligned to the epoch). */
export function windowStart(at: string, windowSeconds: number): string {
  const ms = windowSeconds * 1000;
  return new Date(Math.floor(Date.parse(at) / ms) * ms).toISOString();
}
