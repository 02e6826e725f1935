/**
 * Deny entries: what Sundown remembers about one ended workload on one role, and the validation that
 * keeps anything that is not a plain role session name or a UTC instant out of an IAM policy.
 */

/** One ended workload whose sessions on a role must be denied. */
export interface DenyEntry {
  /** RoleSessionName of the workload; must match {@link SESSION_NAME_PATTERN}. */
  sessionName: string;
  /**
   * ISO-8601 UTC instant (`...Z`) the workload ended. Sessions of this name issued strictly before the
   * rendered bound (this instant rounded up to the whole second, or coarser, see render.ts) are denied.
   */
  notAfter: string;
  /** ISO-8601 UTC instant after which every credential this entry targets has expired; then it may be pruned. */
  expiresAt: string;
  /**
   * True when a later, different workload can legitimately get a session with the same name (Lambda
   * function names, custom workload IDs, EC2 `stopped`); such bounds are never coarsened. False for names
   * that are never reused (terminated EC2 instance IDs, ECS task IDs, CodeBuild build IDs).
   */
  reusableName: boolean;
}

/** Thrown for any entry that could not be rendered safely; the message names the bad value. */
export class InvalidDenyEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDenyEntryError';
  }
}

/**
 * The characters and length IAM/STS allow in a RoleSessionName (2-64 of `[\w+=,.@-]`).
 *
 * Why it matters for safety: none of `*`, `?`, `:`, `"`, `\`, `$`, `{` or whitespace is in this set, so a
 * validated name can neither act as a StringLike wildcard, nor a policy variable, nor break out of its JSON
 * string. Every value Sundown writes is `*:` followed by a name that passed this pattern.
 */
export const SESSION_NAME_PATTERN: RegExp = /^[\w+=,.@-]{2,64}$/;

/** Throws {@link InvalidDenyEntryError} unless `name` is a valid RoleSessionName. */
export function assertValidSessionName(name: string): void {
  if (typeof name !== 'string' || !SESSION_NAME_PATTERN.test(name)) {
    throw new InvalidDenyEntryError(
      `session name ${describe(name)} is invalid: expected 2-64 characters of letters, digits and _+=,.@-`,
    );
  }
}

/** A parsed UTC instant, kept at the precision the rendering and pruning need. */
export interface Instant {
  /** Whole seconds since the epoch, rounded up when the text had a non-zero fraction. */
  ceilSeconds: number;
  /** Milliseconds since the epoch, rounded up when the text had a non-zero sub-millisecond part. */
  ceilMillis: number;
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Years Sundown accepts. The upper limit leaves room to round a bound up (by at most an hour) and still
 * print it as a four-digit-year ISO string; the lower one keeps Date.UTC away from its two-digit-year quirk.
 */
const MIN_YEAR = 1970;
const MAX_YEAR = 9998;
/** 9999-01-01T00:00:00.000Z: instants before it have a year of at most {@link MAX_YEAR}. */
const MAX_FAST_MILLIS = Date.UTC(MAX_YEAR + 1, 0, 1);

/**
 * Parses an ISO-8601 UTC instant such as `2024-05-01T12:00:00Z` or `2024-05-01T12:00:00.123Z`.
 * Only the `Z` form is accepted: offsets, date-only strings and impossible dates (Feb 30, second 60) throw,
 * because a silently misread end time would deny the wrong sessions or none at all.
 */
export function parseInstant(value: string, field: string): Instant {
  const cached = typeof value === 'string' ? instantCache.get(value) : undefined;
  if (cached) return cached;
  const instant = parseInstantUncached(value, field);
  // Entries of a burst share a handful of instants: a role's render parses each once.
  if (instantCache.size >= INSTANT_CACHE_SIZE) instantCache.clear();
  instantCache.set(value, Object.freeze(instant));
  return instant;
}

const INSTANT_CACHE_SIZE = 4096;
const instantCache = new Map<string, Instant>();

function parseInstantUncached(value: string, field: string): Instant {
  // Fast path for what Sundown itself writes (Date#toISOString: millisecond precision): the text
  // is valid exactly when it survives a round trip through Date unchanged.
  if (typeof value === 'string' && value.length === 24 && value.charCodeAt(23) === 90 /* Z */) {
    const ms = Date.parse(value);
    if (ms >= 0 && ms < MAX_FAST_MILLIS && new Date(ms).toISOString() === value) {
      return { ceilSeconds: Math.ceil(ms / 1000), ceilMillis: ms };
    }
  }
  const match = typeof value === 'string' ? ISO_UTC.exec(value) : null;
  const invalid = () =>
    new InvalidDenyEntryError(
      `${field} ${describe(value)} is invalid: expected an ISO-8601 UTC instant like 2024-05-01T12:00:00Z (years ${MIN_YEAR}-${MAX_YEAR})`,
    );
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = match[7] ?? '';
  if (year < MIN_YEAR || year > MAX_YEAR) throw invalid();
  const baseMillis = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(baseMillis);
  const roundTrips =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  if (!roundTrips) throw invalid();
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const subMillis = /[1-9]/.test(fraction.slice(3)) ? 1 : 0;
  const hasFraction = /[1-9]/.test(fraction);
  return {
    ceilSeconds: baseMillis / 1000 + (hasFraction ? 1 : 0),
    ceilMillis: baseMillis + millis + subMillis,
  };
}

/** A validated entry with its instants parsed. */
export interface ParsedEntry {
  entry: DenyEntry;
  notAfter: Instant;
  expiresAt: Instant;
}

/**
 * Validates one entry (it may come from JSON or a database record, so types are checked at run time) and
 * returns a copy holding exactly the four DenyEntry fields, so extra attributes never leak into output.
 */
export function parseEntry(raw: DenyEntry): ParsedEntry {
  if (typeof raw !== 'object' || raw === null) {
    throw new InvalidDenyEntryError(`deny entry ${describe(raw)} is invalid: expected an object`);
  }
  // The revoker prunes, then renders, the same entries: the second pass reuses the first's result,
  // but only while all four fields are the very values that were validated (strings and booleans
  // are immutable, so equal values validate the same; a changed field is validated again).
  const seen = parsedEntries.get(raw);
  if (
    seen &&
    seen.entry.sessionName === raw.sessionName &&
    seen.entry.notAfter === raw.notAfter &&
    seen.entry.expiresAt === raw.expiresAt &&
    seen.entry.reusableName === raw.reusableName
  ) {
    return seen;
  }
  assertValidSessionName(raw.sessionName);
  if (typeof raw.reusableName !== 'boolean') {
    throw new InvalidDenyEntryError(
      `reusableName ${describe(raw.reusableName)} of session ${raw.sessionName} is invalid: expected a boolean`,
    );
  }
  const notAfter = parseInstant(raw.notAfter, 'notAfter');
  const expiresAt = parseInstant(raw.expiresAt, 'expiresAt');
  const entry: DenyEntry = {
    sessionName: raw.sessionName,
    notAfter: raw.notAfter,
    expiresAt: raw.expiresAt,
    reusableName: raw.reusableName,
  };
  const parsed = { entry, notAfter, expiresAt };
  parsedEntries.set(raw, parsed);
  return parsed;
}

const parsedEntries = new WeakMap<object, ParsedEntry>();

/**
 * Splits entries into those still needed and those whose credentials have all expired.
 *
 * An entry is pruned only when `expiresAt <= now`; an unexpired entry is never removed, because removing it
 * would re-enable the dead workload's still-valid credentials. Order and duplicates are preserved, so
 * `kept` and `pruned` together are exactly the input. Every entry is validated first: an entry with an
 * unreadable expiry throws rather than being guessed at.
 */
export function pruneEntries(
  entries: readonly DenyEntry[],
  now: Date,
): { kept: DenyEntry[]; pruned: DenyEntry[] } {
  const nowMillis = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(nowMillis)) {
    throw new RangeError(`now ${describe(now)} is invalid: expected a valid Date`);
  }
  const kept: DenyEntry[] = [];
  const pruned: DenyEntry[] = [];
  for (const raw of entries) {
    const { expiresAt } = parseEntry(raw);
    (expiresAt.ceilMillis <= nowMillis ? pruned : kept).push(raw);
  }
  return { kept, pruned };
}

/** Renders an offending value for an error message without ever dumping a large object. */
function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
