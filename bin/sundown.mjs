#!/usr/bin/env node
// The `sundown` CLI. In a clone of the repository it runs the TypeScript sources through tsx, so
// `npx sundown` works right after `npm install` with no build step; in the installed package
// (no sources) it runs the built JavaScript in dist/.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli/main.js');
}
