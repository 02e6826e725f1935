/**
 * Moved to lambdas/triggers/classify.ts (one module per trigger, #17). Kept only for
 * bench/handler-cost.ts, which is being edited elsewhere; delete this file once it imports
 * lambdas/triggers/classify.ts. Nothing else may import it.
 */

export { classifyEvent } from '../../triggers/classify.ts';
