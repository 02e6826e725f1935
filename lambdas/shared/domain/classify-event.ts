/**
 * Moved to lambdas/triggers/classify.ts (one module per trigger, #17). This path stays for the
 * importers outside the triggers' folder that still name it; new code imports the triggers' folder.
 */

export type { Classification, ClassifyContext, RoleHint, Trigger } from '../../triggers/classify.ts';
export { classifyEvent } from '../../triggers/classify.ts';
