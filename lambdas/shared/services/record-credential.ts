/**
 * Moved to lambdas/registration/ (#17). Kept only for bench/sundown-burst.ts, which is being edited
 * elsewhere; delete this file once it imports OPEN_ENDED from lambdas/registration/index.ts.
 * Nothing else may import it.
 */

export { OPEN_ENDED } from '../../registration/index.ts';
