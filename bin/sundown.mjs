#!/usr/bin/env node
// The `sundown` CLI. Runs the TypeScript sources through tsx, so `npx sundown`
// works right after `npm install` with no build step.
import { register } from 'tsx/esm/api';

// Lambda runs Node.js 22; the CLI may run on 20, where the SDK warns on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../cli/main.ts');
