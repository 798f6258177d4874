#!/usr/bin/env node
// The published entry: registers tsx so the TypeScript CLI runs without a build step.
import { register } from 'tsx/esm/api';

// The CLI and convoy dev run on Node 20 here; deployed handlers run on Node 22 (see lib/constructs).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./convoy.ts');
