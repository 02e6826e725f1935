/** What a preflight rule is: one per file under rules/ (its own module, so types.ts need not know the model). */
import type { TemplateModel } from './model.ts';
import type { RuleFinding, Severity } from './types.ts';

export interface Rule {
  id: string;
  severity: Severity;
  /** One line: what the rule checks. */
  description: string;
  /** Why it matters for Sundown and how to fix a finding. */
  help: string;
  check(context: TemplateModel): RuleFinding[];
}
