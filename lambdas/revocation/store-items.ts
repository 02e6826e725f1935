/**
 * The items of the revocation store (lambdas/revocation/store.ts): a principal's `#meta` item and its
 * deny entries, as types and as read from DynamoDB. Pure; no I/O.
 */
import type { DenyEntry } from './deny-policy.ts';

/** Sort key of a principal's `#meta` item. */
export const META = '#meta';

/**
 * Sparse index over the `#meta` items of principals that still hold deny entries: partition key
 * `metaIndex` (always {@link META_INDEX_PARTITION}), sort key `nextExpiry` (the earliest `expiresAt`
 * among the entries kept by the last render). The sweep finds principals with entries due for
 * pruning, and `sundown status` the principals nearest their policy capacity, without a scan.
 */
export const REVOCATIONS_BY_NEXT_EXPIRY = 'principalsByNextExpiry';
export const META_INDEX_PARTITION = 'principal';

/** A principal's `#meta` item as the index returns it. */
export interface PrincipalMeta {
  principalArn: string;
  version: number;
  renderedVersion: number;
  nextExpiry: string;
  charsUsed: number;
  charsCapacity: number;
  iamWrites: number;
  unplaced: number;
  renderedAt?: string;
}

export interface MetaPage {
  items: PrincipalMeta[];
  cursor?: string;
}

export function metaOf(item: Record<string, unknown>): PrincipalMeta {
  return {
    principalArn: String(item.principalArn),
    version: Number(item.version ?? 0),
    renderedVersion: Number(item.renderedVersion ?? 0),
    nextExpiry: String(item.nextExpiry ?? ''),
    charsUsed: Number(item.charsUsed ?? 0),
    charsCapacity: Number(item.charsCapacity ?? 0),
    iamWrites: Number(item.iamWrites ?? 0),
    unplaced: Number(item.unplaced ?? 0),
    ...(item.renderedAt ? { renderedAt: String(item.renderedAt) } : {}),
  };
}

export interface StoredDenyEntry extends DenyEntry {
  /** The workload whose sessions this entry denies. */
  workloadId: string;
}

export interface PrincipalState {
  entries: StoredDenyEntry[];
  version: number;
  renderedVersion: number;
  /** IAM writes made for this principal so far, and the last render's capacity use. */
  iamWrites: number;
  charsUsed: number;
  charsCapacity: number;
  /** Entries the last render could not place (policy capacity exhausted). */
  unplaced: number;
  /** Policy name -> sha256 of the document the last render wrote; a policy whose hash is unchanged is not rewritten. */
  policyHashes: Record<string, string>;
  /** Entry keys the last render could not place (at most {@link MAX_STORED_UNPLACED_KEYS}). */
  unplacedKeys: string[];
  /** When IAM accepted the last render (ISO): every entry of versions <= renderedVersion was denied by then. */
  renderedAt?: string;
}

/** Bound on the unplaced entry keys kept on the `#meta` item (DynamoDB items are at most 400 KB). */
export const MAX_STORED_UNPLACED_KEYS = 2_000;

export interface RenderStats {
  /** Mutating IAM calls this render made (kept as a running total per principal). */
  iamWrites?: number;
  charsUsed: number;
  charsCapacity: number;
  managedPolicies: number;
  unplaced: number;
  coarsenedSeconds: number;
  /**
   * The earliest `expiresAt` among the entries this render kept; undefined when none is left. Puts
   * the principal in (or takes it out of) the {@link REVOCATIONS_BY_NEXT_EXPIRY} index.
   */
  nextExpiry?: string;
  /** What the render wrote, for the next render to skip unchanged policies. */
  policyHashes?: Record<string, string>;
  /** Entry keys the render could not place. */
  unplacedKeys?: readonly string[];
  /** When IAM accepted the render's last write (ISO); the time of this call when absent. */
  renderedAt?: string;
}

/** A stored deny entry item as the entry it holds. */
export function entryOf(item: Record<string, unknown>): StoredDenyEntry {
  return {
    sessionName: String(item.sessionName),
    notAfter: String(item.notAfter),
    expiresAt: String(item.expiresAt),
    reusableName: Boolean(item.reusableName),
    workloadId: String(item.workloadId),
  };
}

export function entryKey(entry: Pick<DenyEntry, 'sessionName' | 'notAfter'>): string {
  return `deny#${entry.sessionName}#${entry.notAfter}`;
}
