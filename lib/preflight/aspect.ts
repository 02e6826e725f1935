/**
 * `SundownPreflight`: the preflight rules inside a CDK app. Added to the app (or a stage or stack),
 * it checks each stack's template as it will be synthesized and annotates the resource of every
 * finding: an error at or above `failOn` (so `cdk synth` fails), a warning below, an info for a
 * suppressed finding (with its reason).
 *
 * The check runs in the validation phase of synthesis, after every aspect (Tags are aspects too, and
 * run on a role only after an aspect on its stack) and after cross-stack references became
 * Fn::ImportValue, so it sees exactly the template `cdk synth` writes.
 */
import {
  Annotations,
  AspectPriority,
  Aspects,
  CfnElement,
  type IAspect,
  CfnResource as L1Resource,
  Stack,
} from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { runPreflight } from './engine.ts';
import { METADATA_KEY, type SuppressionEntry } from './suppressions.ts';
import { atLeast, type CfnResource, type PreflightOptions, type Severity } from './types.ts';

export interface SundownPreflightProps extends PreflightOptions {
  /**
   * Findings at or above this severity are errors (synth fails); findings below are warnings.
   * @default 'error'
   */
  readonly failOn?: Severity;
}

export class SundownPreflight implements IAspect {
  /** Adds the aspect to `scope` with read-only priority (after aspects that change resources). */
  static applyTo(scope: IConstruct, props: SundownPreflightProps = {}): SundownPreflight {
    const aspect = new SundownPreflight(props);
    Aspects.of(scope).add(aspect, { priority: AspectPriority.READONLY });
    return aspect;
  }

  private readonly stacks = new WeakSet<Stack>();

  constructor(private readonly props: SundownPreflightProps = {}) {}

  visit(node: IConstruct): void {
    if (!Stack.isStack(node) || this.stacks.has(node)) return;
    this.stacks.add(node);
    node.node.addValidation({
      validate: () => {
        this.check(node);
        return [];
      },
    });
  }

  private check(stack: Stack): void {
    const { resources, elements } = synthesizedResources(stack);
    const { failOn = 'error', ...options } = this.props;
    const { findings } = runPreflight(
      [{ path: stack.templateFile, stackName: stack.stackName, resources }],
      options,
    );
    for (const f of findings) {
      const target = elements.get(f.resource) ?? stack;
      const text = `[sundown-preflight ${f.ruleId}] ${f.message}`;
      if (f.suppressed) Annotations.of(target).addInfo(`${text} (suppressed: ${f.suppressed.reason})`);
      else if (atLeast(f.severity, failOn)) Annotations.of(target).addError(text);
      else Annotations.of(target).addWarning(text);
    }
  }
}

/**
 * Marks findings of `ruleIds` on a construct's CloudFormation resource as accepted, with the reason
 * (template Metadata `sundown_preflight.suppress`, read by the CLI and by the aspect). For an L2
 * construct, the suppression goes on its default child (`role` -> its AWS::IAM::Role).
 */
export function suppressPreflight(construct: IConstruct, suppressions: readonly SuppressionEntry[]): void {
  const target = construct.node.defaultChild ?? construct;
  if (!(target instanceof L1Resource)) {
    throw new Error(
      `${construct.node.path} has no CloudFormation resource to suppress preflight findings on`,
    );
  }
  for (const s of suppressions) {
    if (s.reason.trim() === '')
      throw new Error(`suppressing ${s.id} on ${construct.node.path} needs a reason`);
  }
  const existing =
    (target.getMetadata(METADATA_KEY) as { suppress?: SuppressionEntry[] } | undefined)?.suppress ?? [];
  target.addMetadata(METADATA_KEY, { suppress: [...existing, ...suppressions] });
}

/** The stack's resources as `cdk synth` writes them, and the construct behind each logical ID. */
function synthesizedResources(stack: Stack): {
  resources: Record<string, CfnResource>;
  elements: Map<string, IConstruct>;
} {
  const resources: Record<string, CfnResource> = {};
  const elements = new Map<string, IConstruct>();
  for (const child of stack.node.findAll()) {
    if (!(child instanceof CfnElement) || Stack.of(child) !== stack) continue;
    // What Stack._toCloudFormation merges into the template, element by element.
    const fragment = stack.resolve(child._toCloudFormation()) as { Resources?: Record<string, CfnResource> };
    for (const [id, resource] of Object.entries(fragment.Resources ?? {})) {
      resources[id] = resource;
      elements.set(id, child);
    }
  }
  return { resources, elements };
}
