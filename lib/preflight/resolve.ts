/**
 * Follows a CloudFormation value that names a resource (a role, an instance profile, a launch
 * template) to the resource in the same template: `Ref`, `Fn::GetAtt` (both forms), and `Fn::Join` /
 * `Fn::Sub` that build an ARN around exactly one such reference. Anything else (an imported value, a
 * parameter, a literal ARN of a role defined elsewhere, a condition) cannot be checked here and comes
 * back as `unresolved` with a description, never as an exception.
 */
import type { CfnResource } from './types.ts';

export type Resolution = { id: string } | { unresolved: string };

/** Deepest nesting of intrinsics followed (hostile templates can nest without end). */
const MAX_DEPTH = 32;

export function resolveReference(value: unknown, resources: Record<string, CfnResource>): Resolution {
  const ids = referencedIds(value, 0);
  if (ids === 'import') return { unresolved: `an imported value (${describeImport(value)})` };
  const local = [...new Set(ids)].filter((id) => Object.hasOwn(resources, id));
  if (local.length === 1) return { id: local[0] as string };
  if (local.length > 1) return { unresolved: `a value that combines ${local.join(', ')}` };
  if (typeof value === 'string') {
    const byName = findByPhysicalName(value, resources);
    return byName
      ? { id: byName }
      : { unresolved: `${truncate(value)}, which is not defined in this template` };
  }
  if (ids.length > 0) return { unresolved: `the parameter or pseudo parameter ${ids.join(', ')}` };
  return {
    unresolved: `a value preflight cannot resolve (${truncate(JSON.stringify(value) ?? 'undefined')})`,
  };
}

/** Logical IDs a value references; 'import' when it goes through Fn::ImportValue. */
function referencedIds(value: unknown, depth: number): string[] | 'import' {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return collect(value, depth);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length !== 1) return [];
  const [key, arg] = entries[0] as [string, unknown];
  switch (key) {
    case 'Ref':
      return typeof arg === 'string' ? [arg] : [];
    case 'Fn::GetAtt':
      if (Array.isArray(arg) && typeof arg[0] === 'string') return [arg[0]];
      return typeof arg === 'string' ? [arg.split('.')[0] as string] : [];
    case 'Fn::ImportValue':
      return 'import';
    case 'Fn::Join':
      return Array.isArray(arg) && Array.isArray(arg[1]) ? collect(arg[1], depth) : [];
    case 'Fn::Sub':
      return subReferences(arg, depth);
    default:
      return [];
  }
}

function collect(values: unknown[], depth: number): string[] | 'import' {
  const ids: string[] = [];
  for (const v of values) {
    const found = referencedIds(v, depth + 1);
    if (found === 'import') return 'import';
    ids.push(...found);
  }
  return ids;
}

/** `${Role.Arn}` / `${Role}` in an Fn::Sub string (pseudo parameters `${AWS::...}` are not resources). */
function subReferences(arg: unknown, depth: number): string[] | 'import' {
  const [text, vars] = Array.isArray(arg) ? arg : [arg, undefined];
  if (typeof text !== 'string') return [];
  const ids = [...text.matchAll(/\$\{([^!}][^}]*)\}/g)]
    .map((m) => (m[1] as string).split('.')[0] as string)
    .filter((name) => !name.startsWith('AWS::') && !(vars && typeof vars === 'object' && name in vars));
  if (vars && typeof vars === 'object') {
    const fromVars = collect(Object.values(vars as Record<string, unknown>), depth);
    if (fromVars === 'import') return 'import';
    ids.push(...fromVars);
  }
  return ids;
}

/** A literal name or ARN that matches a resource's own literal name (RoleName, InstanceProfileName, ...). */
function findByPhysicalName(value: string, resources: Record<string, CfnResource>): string | undefined {
  const name = value.startsWith('arn:') ? (value.split('/').pop() ?? '') : value;
  if (!name) return undefined;
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    const own = p.RoleName ?? p.InstanceProfileName ?? p.LaunchTemplateName ?? p.LaunchConfigurationName;
    if (own === name) return id;
  }
  return undefined;
}

function describeImport(value: unknown): string {
  const text = JSON.stringify(value) ?? '';
  const name = /"Fn::ImportValue":("[^"]*")/.exec(text)?.[1];
  return name ? `Fn::ImportValue ${truncate(JSON.parse(name) as string)}` : 'Fn::ImportValue';
}

function truncate(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
