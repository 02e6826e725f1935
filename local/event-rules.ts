/**
 * Which of the stack's queues an event put on a bus may reach: the runtime wakes those queues'
 * pollers when one of its handlers (or the demo, tests and benchmarks in this process) puts events,
 * as Lambda's long-polling pollers would receive the delivery at once. Only the rule's bus and its
 * pattern's `source` are read, conservatively: a pattern this cannot read wakes its queue (an extra
 * empty receive), never the reverse. The emulator still does the real matching and delivery.
 */

/** An EventBridge rule of the stack whose target is one of its SQS queues. */
export interface QueueRule {
  /** The target queue's name (the last segment of its URL). */
  queueName: string;
  /** The rule's bus name (`default` for the default bus). */
  bus: string;
  /** The pattern's `source` (undefined: any source). */
  source?: unknown[];
}

/** One entry of a PutEvents call that the bus accepted. */
export interface PutEntry {
  /** Bus name or ARN as given; absent for the default bus. */
  bus?: string;
  source: string;
}

/** A bus named by name or ARN, as a name. */
export function busName(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  return nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1);
}

/** Whether an event from `source` may match a pattern's `source` list (true when unsure). */
export function sourceMayMatch(pattern: unknown[] | undefined, source: string): boolean {
  if (!pattern) return true;
  return pattern.some((element) => {
    if (typeof element === 'string') return element === source;
    if (!element || typeof element !== 'object') return true;
    const rule = element as Record<string, unknown>;
    if (typeof rule.prefix === 'string') return source.startsWith(rule.prefix);
    const but = rule['anything-but'];
    if (typeof but === 'string') return source !== but;
    if (Array.isArray(but) && but.every((b) => typeof b === 'string')) return !but.includes(source);
    return true;
  });
}

/** The queues whose rules may receive any of `entries`. */
export function queuesReached(rules: readonly QueueRule[], entries: readonly PutEntry[]): Set<string> {
  const reached = new Set<string>();
  for (const rule of rules) {
    if (reached.has(rule.queueName)) continue;
    if (entries.some((e) => busName(e.bus) === rule.bus && sourceMayMatch(rule.source, e.source)))
      reached.add(rule.queueName);
  }
  return reached;
}
