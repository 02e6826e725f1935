/** `.sundown/local.json`: where `sundown local` deployed, for `--local` on every other command. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { CliError } from './errors.ts';

export const LocalStateSchema = z.object({
  endpoint: z.string().url(),
  region: z.string(),
  accountId: z.string(),
  stackName: z.string(),
  outputs: z.record(z.string(), z.string()),
  /** Where the local runtime answers the Lambda Invoke API for the stack's functions. */
  lambdaEndpoint: z.string().url().optional(),
  pid: z.number().optional(),
});
export type LocalState = z.infer<typeof LocalStateSchema>;

export function localStatePath(cwd = process.cwd()): string {
  return path.join(cwd, '.sundown', 'local.json');
}

export function writeLocalState(state: LocalState, cwd = process.cwd()): string {
  const file = localStatePath(cwd);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  return file;
}

export function readLocalState(cwd = process.cwd()): LocalState {
  const file = localStatePath(cwd);
  if (!existsSync(file)) {
    throw new CliError(`no local deployment found (${file} is missing): run "npx sundown local" first`);
  }
  const parsed = LocalStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new CliError(`${file} is not a valid local state file: delete it and run "npx sundown local"`);
  return parsed.data;
}
