/**
 * Time flags (`--since`, `--until`): an ISO-8601 time or a duration back from now (`90s`, `30m`,
 * `2h`, `7d`, `2w`). Returned as the UTC millisecond ISO form audit records use, so they compare
 * with `at` as strings.
 */
import { CliError } from './errors.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d{1,9})(s|m|h|d|w)$/;
/** Date, or date and time with optional seconds, fraction and zone (`Z`, `+02:00`, `+0200`). */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses one time flag. A time without a zone is read as UTC (audit times are UTC), never as the
 * machine's local time. Throws `CliError` naming the flag and the value.
 */
export function parseTimeFlag(flag: string, raw: string, now: Date = new Date()): string {
  const value = raw.trim();
  const duration = DURATION.exec(value);
  if (duration) {
    const ms = Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS];
    const time = now.getTime() - ms;
    if (ms > 0 && Number.isFinite(time) && time >= 0) return new Date(time).toISOString();
  }
  const iso = ISO.exec(value);
  if (iso) {
    const [, year = '', month = '', day = '', hour, minute = '00', second = '00', zone] = iso;
    const normalized = `${value.slice(0, 10)}T${hour === undefined ? '00:00:00Z' : value.slice(11)}`;
    const time = Date.parse(hour !== undefined && !zone ? `${normalized}Z` : normalized);
    // Date.parse rolls 2024-02-30 over to March: the date fields must survive a round trip.
    const date = new Date(Date.UTC(+year, +month - 1, +day));
    const fieldsValid =
      date.getUTCFullYear() === +year &&
      date.getUTCMonth() === +month - 1 &&
      date.getUTCDate() === +day &&
      +(hour ?? 0) < 24 &&
      +minute < 60 &&
      +second < 60;
    if (!Number.isNaN(time) && fieldsValid) return new Date(time).toISOString();
  }
  throw new CliError(
    `${flag} must be an ISO time like 2024-05-01T12:00:00Z or a duration like 30m, 2h or 7d, got "${raw}"`,
  );
}

export interface TimeRange {
  since?: string;
  until?: string;
}

/** Both flags, checked for order. */
export function parseTimeRange(opts: { since?: string; until?: string }, now: Date = new Date()): TimeRange {
  const since = opts.since === undefined ? undefined : parseTimeFlag('--since', opts.since, now);
  const until = opts.until === undefined ? undefined : parseTimeFlag('--until', opts.until, now);
  if (since && until && since > until) {
    throw new CliError(`--since (${since}) must not be later than --until (${until})`);
  }
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}
