/**
 * Reading what the CLI is given: template files (JSON) and cloud assemblies (a `cdk.out` folder: its
 * manifest.json names each stack's template, nested assemblies of CDK stages included). Every problem
 * is an error for that file, never an exception: a file that is not JSON, a manifest that is missing
 * or names a template that is not there, a logical ID or tag that is not what CloudFormation accepts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { printable } from './sanitize.ts';
import type { CfnResource, TemplateInput } from './types.ts';

export interface InputError {
  path: string;
  message: string;
}

export interface LoadedInputs {
  templates: TemplateInput[];
  errors: InputError[];
}

/** Larger files are refused (CloudFormation itself takes at most 1 MB). */
export const MAX_TEMPLATE_BYTES = 10 * 1024 * 1024;
const LOGICAL_ID = /^[A-Za-z0-9]{1,255}$/;
const RESOURCE_TYPE = /^[A-Za-z0-9]+(::[A-Za-z0-9_-]+){1,3}$/;
const MAX_NESTED_ASSEMBLIES = 8;

export function loadInputs(paths: readonly string[]): LoadedInputs {
  const out: LoadedInputs = { templates: [], errors: [] };
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      out.errors.push({ path: p, message: 'no such file or directory' });
      continue;
    }
    if (stat.isDirectory()) loadAssembly(p, out, 0);
    else addTemplate(p, undefined, out);
  }
  return out;
}

function loadAssembly(dir: string, out: LoadedInputs, depth: number): void {
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest: unknown;
  try {
    manifest = readJson(manifestPath);
  } catch (err) {
    out.errors.push({ path: manifestPath, message: `not a cloud assembly: ${(err as Error).message}` });
    return;
  }
  const artifacts = (manifest as { artifacts?: unknown } | null)?.artifacts;
  if (artifacts === null || typeof artifacts !== 'object') {
    out.errors.push({ path: manifestPath, message: 'the manifest has no "artifacts" object' });
    return;
  }
  let stacks = 0;
  for (const [name, raw] of Object.entries(artifacts as Record<string, unknown>)) {
    const artifact = (raw ?? {}) as { type?: unknown; properties?: Record<string, unknown> };
    const props = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack') {
      stacks += 1;
      const file = inside(dir, props.templateFile);
      if (!file) {
        out.errors.push({
          path: manifestPath,
          message: `stack ${name}: templateFile must name a file inside ${dir}`,
        });
        continue;
      }
      const stackName = typeof props.stackName === 'string' ? props.stackName : name;
      addTemplate(file, stackName, out);
    } else if (artifact.type === 'cdk:cloud-assembly') {
      const nested = inside(dir, props.directoryName);
      if (!nested || depth >= MAX_NESTED_ASSEMBLIES) {
        out.errors.push({
          path: manifestPath,
          message: `nested assembly ${name}: cannot read its directory`,
        });
        continue;
      }
      stacks += 1;
      loadAssembly(nested, out, depth + 1);
    }
  }
  if (stacks === 0) out.errors.push({ path: manifestPath, message: 'the cloud assembly holds no stack' });
}

/** `dir/relative` when `relative` is a string that stays inside `dir` (a manifest cannot point elsewhere). */
function inside(dir: string, relative: unknown): string | undefined {
  if (typeof relative !== 'string' || relative === '') return undefined;
  const full = path.resolve(dir, relative);
  const root = path.resolve(dir);
  return full.startsWith(`${root}${path.sep}`) ? path.join(dir, relative) : undefined;
}

function addTemplate(file: string, stackName: string | undefined, out: LoadedInputs): void {
  try {
    const text = readText(file);
    const resources = validateTemplate(parseJson(text));
    const lines = resourceLines(text, resources);
    out.templates.push({ path: file, ...(stackName !== undefined ? { stackName } : {}), resources, lines });
  } catch (err) {
    out.errors.push({ path: file, message: (err as Error).message });
  }
}

function readJson(file: string): unknown {
  return parseJson(readText(file));
}

function readText(file: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new Error('no such file');
  }
  if (size > MAX_TEMPLATE_BYTES)
    throw new Error(`${size} bytes is more than the ${MAX_TEMPLATE_BYTES} preflight reads`);
  return fs.readFileSync(file, 'utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof RangeError ? 'nested too deeply' : (err as Error).message;
    throw new Error(
      `not JSON (${printable(reason, 120)}); preflight reads JSON templates as cdk synth writes them`,
    );
  }
}

/** The line of each resource's key in the template text (for SARIF regions), one pass over the text. */
export function resourceLines(text: string, resources: Record<string, CfnResource>): Record<string, number> {
  const lines: Record<string, number> = {};
  const start = text.indexOf('"Resources"');
  if (start < 0) return lines;
  let line = text.slice(0, start).split('\n').length;
  let last = start;
  for (const m of text.slice(start).matchAll(/"([A-Za-z0-9]{1,255})"\s*:/g)) {
    const at = start + m.index;
    for (let i = last; i < at; i++) if (text.charCodeAt(i) === 10) line += 1;
    last = at;
    const id = m[1] as string;
    if (Object.hasOwn(resources, id) && lines[id] === undefined) lines[id] = line;
  }
  return lines;
}

/** The template's resources, once every logical ID, type and tag is one CloudFormation would accept. */
export function validateTemplate(template: unknown): Record<string, CfnResource> {
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new Error('not a CloudFormation template: expected a JSON object');
  }
  const resources = (template as { Resources?: unknown }).Resources;
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new Error('not a CloudFormation template: no "Resources" object');
  }
  for (const [id, raw] of Object.entries(resources as Record<string, unknown>)) {
    if (!LOGICAL_ID.test(id)) {
      throw new Error(
        `logical ID "${printable(id, 80)}" is not valid: CloudFormation allows 1 to 255 letters and digits`,
      );
    }
    const r = raw as { Type?: unknown; Properties?: unknown; Metadata?: unknown } | null;
    if (r === null || typeof r !== 'object' || typeof r.Type !== 'string' || !RESOURCE_TYPE.test(r.Type)) {
      const type = typeof r?.Type === 'string' ? `"${printable(r.Type, 80)}"` : 'no';
      throw new Error(`resource ${id} has ${type} Type: expected a resource type such as AWS::IAM::Role`);
    }
    for (const key of ['Properties', 'Metadata'] as const) {
      const v = r[key];
      if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) {
        throw new Error(`resource ${id}: ${key} must be an object`);
      }
    }
    checkTags(id, (r.Properties as { Tags?: unknown } | undefined)?.Tags);
  }
  return resources as Record<string, CfnResource>;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: tags may not hold control characters
const TAG_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/;

/** Literal tag keys (1-128) and values (0-256) without control characters, as IAM and most services require. */
function checkTags(id: string, tags: unknown): void {
  if (!Array.isArray(tags)) return;
  for (const tag of tags) {
    const { Key: key, Value: value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (typeof key === 'string' && (key.length === 0 || key.length > 128 || !TAG_TEXT.test(key))) {
      throw new Error(
        `resource ${id} has the tag key "${printable(key, 80)}": expected 1 to 128 characters, no control characters`,
      );
    }
    if (typeof value === 'string' && (value.length > 256 || !TAG_TEXT.test(value))) {
      throw new Error(
        `resource ${id} has a tag ${printable(String(key), 80)} whose value "${printable(value, 80)}" is not valid: expected at most 256 characters, no control characters`,
      );
    }
  }
}
