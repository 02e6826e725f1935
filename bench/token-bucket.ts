/**
 * IAM's write throttling, as AWS describes it: account-wide token buckets whose rate AWS does not
 * publish (../shared/reference/limits-and-guardrails.md, "IAM write rate"). moto never throttles, so
 * the bench's counting proxy and the integration tests' fault proxy ration IAM writes with this.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  /** `perSecond` tokens a second, at most `burst` saved up; starts full. */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** Takes a token when one is there. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** IAM operations that change something (IAM rations writes; reads have their own, larger buckets). */
export function isIamWrite(service: string, op: string): boolean {
  return service === 'iam' && !/^(Get|List|Simulate|Generate)/.test(op);
}

/** IAM's query-protocol error, as IAM sends it (HTTP 400 for Throttling). */
export function iamErrorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
