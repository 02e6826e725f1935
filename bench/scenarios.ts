/**
 * The run's command line (`--quick`, `--check`, `--allow-dirty`, `--only`) and the bursts it
 * measures.
 */
export const quick = process.argv.includes('--quick');
/** Exit non-zero when a target is missed (targets are otherwise reported, not failed on). */
export const check = process.argv.includes('--check');
/** Record results from a tree with uncommitted changes (they are then marked as such). */
export const allowDirty = process.argv.includes('--allow-dirty');
/** The rationed scenario's IAM write rate (and burst): AWS publishes none ("single-digit TPS"). */
const IAM_WRITES_PER_SECOND = 5;
/** `--only 1000x10[,100x1]`: just these bursts, for iterating (results in a git-ignored file). */
const onlyArg = process.argv[process.argv.indexOf('--only') + 1];
export const only = process.argv.includes('--only')
  ? (onlyArg ?? '').split(',').map((s) => {
      const [burst = '', rate] = s.trim().split('@iam');
      const [n = 0, r = 0, a = 1, ...rest] = burst.split('x').map(Number);
      return [n, r, rest.length > 0 ? Number.NaN : a, rate === undefined ? 0 : Number(rate)] as Spec;
    })
  : undefined;
if (only?.some(([n, r, a, w]) => !(n > 0 && r > 0 && a > 0 && a <= 3 && w >= 0 && (w === 0 || a === 1)))) {
  process.stderr.write(
    `bench: --only takes bursts like 1000x10,100x1,1000x10x3,100x10@iam5 (got ${onlyArg})\n`,
  );
  process.exit(2);
}
export const partialRun = quick || only !== undefined;
/**
 * A burst: instances, roles (per account), accounts (more than 1: bench/multi-account.ts), and IAM
 * writes a second (0: not rationed; single-account bursts only).
 */
export type Spec = [instances: number, roles: number, accounts: number, iamWritesPerSecond: number];
export const SCENARIOS: Spec[] =
  only ??
  (quick
    ? [
        [1, 1, 1, 0],
        [20, 1, 1, 0],
        [20, 2, 1, 0],
      ]
    : [
        [1, 1, 1, 0],
        [100, 1, 1, 0],
        [100, 10, 1, 0],
        [1000, 10, 1, 0],
        [1000, 1, 1, 0],
        [1000, 10, 3, 0],
        // IAM throttles writes (account-wide token buckets, rate unpublished): 5 a second assumed.
        [100, 10, 1, IAM_WRITES_PER_SECOND],
      ]);
