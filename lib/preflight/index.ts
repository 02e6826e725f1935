/** Preflight for users' CDK apps and tools: the aspect, suppressions, and the engine over templates. */
export { SundownPreflight, type SundownPreflightProps, suppressPreflight } from './aspect.ts';
export { failing, type PreflightResult, runPreflight } from './engine.ts';
export { type InputError, loadInputs } from './input.ts';
export type { Rule } from './rule.ts';
export { RULES } from './rules/index.ts';
export { toSarif } from './sarif.ts';
export type { FileSuppression, SuppressionEntry } from './suppressions.ts';
export type { Finding, PreflightOptions, Severity, TemplateInput } from './types.ts';
