/**
 * Where an event may come from. The queue a record arrived on tells which bus
 * delivered it: AWS service events are accepted only from the default bus
 * with `aws.*` sources, Sundown's custom events only from Sundown's bus with
 * source `sundown`, and only from Sundown's own account, or, in a hub, from the spoke accounts it serves
 * (their events arrive through the hub's bus, which admits only those accounts or the organization).
 */
export interface TrustContext {
  fromSundownBus: boolean;
  account: string;
  /** A hub: the other accounts whose events it accepts. Unset: its own account only. */
  serves?: (account: string) => boolean;
}

export function untrustedReason(event: unknown, ctx: TrustContext): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined; // the classifier rejects it
  const { source, account } = event as { source?: unknown; account?: unknown };
  if (typeof source !== 'string') return undefined;
  if (ctx.fromSundownBus && source !== 'sundown') {
    return `source ${JSON.stringify(source.slice(0, 64))} is not accepted on Sundown's bus (only "sundown")`;
  }
  if (!ctx.fromSundownBus && !source.startsWith('aws.')) {
    return `source ${JSON.stringify(source.slice(0, 64))} is not accepted on the default bus (only aws.*)`;
  }
  // EventBridge always sets `account`; an event without one cannot show where it came from.
  if (typeof account !== 'string') return 'event has no account field';
  if (account !== ctx.account && !ctx.serves?.(account)) {
    if (ctx.serves) {
      return `event from account ${JSON.stringify(account.slice(0, 16))}, which is neither this hub's (${ctx.account}) nor one of its spoke accounts`;
    }
    return `event from unexpected account ${JSON.stringify(account.slice(0, 16))} (Sundown runs in ${ctx.account})`;
  }
  return undefined;
}

export function parseBody(body: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false, reason: 'message body is not valid JSON' };
  }
}
