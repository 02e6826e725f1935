/**
 * Opt-in: which IAM principals Sundown may change (tagged `sundown:revoke=enabled`, or allowlisted;
 * service-linked roles never). One check, asked by revocation before it denies, by the sweep before
 * it restores a deny and by the broker before it issues. The public face; import from here:
 * - opt-in.ts: OptInChecker (cached decisions, per account) and the allowlist match.
 */
export {
  allowlistMatches,
  DEFAULT_OPT_IN_CACHE_MAX_ENTRIES,
  DEFAULT_OPT_IN_CACHE_TTL_MS,
  OPT_IN_TAG_KEY,
  OPT_IN_TAG_VALUE,
  OptInChecker,
  type OptInCheckerOptions,
  type OptInDecision,
} from './opt-in.ts';
