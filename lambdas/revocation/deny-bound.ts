/** Where a revocation's deny ends: shared by the intake that stores entries and the kinds that settle them. */

/**
 * The first instant after the second `endedAt` falls in: what the deny covers (sessions issued before
 * it). EventBridge stamps events in whole seconds, truncated, and IAM compares aws:TokenIssueTime in
 * seconds: a workload stamped as ended at 12:00:27 ended somewhere in [12:00:27, 12:00:28), so a
 * session it got at 12:00:27.3 must be denied too. A successor under a reused session name that got
 * credentials within that same second is denied as well: the one second in which the two cannot be
 * told apart goes to revocation.
 */
export function denyBoundFor(endedAt: string): string {
  const ms = Date.parse(endedAt);
  if (Number.isNaN(ms)) return endedAt; // no end recorded: matches no stored entry
  return new Date(Math.floor(ms / 1000) * 1000 + 1000).toISOString();
}
