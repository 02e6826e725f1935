/**
 * Which of the stack's queues an event put on a bus may reach: the runtime wakes those queues'
 * pollers when one of its handlers (or the demo, tests and benchmarks in this process) puts events,
 * as Lambda's long-polling pollers would receive the delivery at once. Only the rule's bus and its
 * pattern's `source`, `detail-type` and top-level `detail` fields are read, conservatively: a pattern this cannot read wakes
 * its queue (an extra empty receive), never the reverse. The emulator still does the real matching
 * and delivery. (Reading `source` alone woke the start and use-after-revoke queues for every EC2
 * termination put in a burst: an empty receive each, slowing the burst's own delivery.)
 */

/** An EventBridge rule of the stack whose target is one of its SQS queues. */
export interface QueueRule {
  /** The target queue's name (the last segment of its URL). */
  queueName: string;
  /** The rule's bus name (`default` for the default bus). */
  bus: string;
  /** The pattern's `source` (undefined: any source). */
  source?: unknown[];
  /** The pattern's `detail-type` (undefined: any). */
  detailType?: unknown[];
  /** The pattern's top-level `detail` fields that are lists (nested ones are not read). */
  detail?: Record<string, unknown[]>;
}

/** One entry of a PutEvents call that the bus accepted. */
export interface PutEntry {
  /** Bus name or ARN as given; absent for the default bus. */
  bus?: string;
  source: string;
  detailType: string;
  /** The event's Detail, as put (JSON). */
  detail?: string;
}

/** A bus named by name or ARN, as a name. */
export function busName(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  return nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1);
}

/** Whether a value (an event's source or detail type) may match a pattern's list for it (true when unsure). */
export function valueMayMatch(pattern: unknown[] | undefined, value: string): boolean {
  if (!pattern) return true;
  return pattern.some((element) => {
    if (typeof element === 'string') return element === value;
    if (!element || typeof element !== 'object') return true;
    const rule = element as Record<string, unknown>;
    if (typeof rule.prefix === 'string') return value.startsWith(rule.prefix);
    const but = rule['anything-but'];
    if (typeof but === 'string') return value !== but;
    if (Array.isArray(but) && but.every((b) => typeof b === 'string')) return !but.includes(value);
    return true;
  });
}

/** Whether an event's detail may match a pattern's top-level detail fields (true when unsure). */
function detailMayMatch(pattern: Record<string, unknown[]> | undefined, detail: unknown): boolean {
  if (!pattern) return true;
  if (!detail || typeof detail !== 'object') return false;
  return Object.entries(pattern).every(([field, list]) => {
    const value = (detail as Record<string, unknown>)[field];
    const values = Array.isArray(value) ? value : [value];
    if (value === undefined) return !list.every((element) => typeof element === 'string');
    return values.some((v) => typeof v !== 'string' || valueMayMatch(list, v));
  });
}

/** The queues whose rules may receive any of `entries`. */
export function queuesReached(rules: readonly QueueRule[], entries: readonly PutEntry[]): Set<string> {
  const reached = new Set<string>();
  // Each entry's bus and detail, read once for all the rules.
  const events = entries.map((e) => ({ ...e, bus: busName(e.bus), parsed: parsedDetail(e.detail) }));
  for (const rule of rules) {
    if (reached.has(rule.queueName)) continue;
    if (
      events.some(
        (e) =>
          e.bus === rule.bus &&
          valueMayMatch(rule.source, e.source) &&
          valueMayMatch(rule.detailType, e.detailType) &&
          detailMayMatch(rule.detail, e.parsed),
      )
    )
      reached.add(rule.queueName);
  }
  return reached;
}

/** An event's Detail as put (JSON; `{}` when absent), undefined when it is not JSON. */
function parsedDetail(detail: string | undefined): unknown {
  try {
    return JSON.parse(detail ?? '{}');
  } catch {
    return undefined;
  }
}
