#!/usr/bin/env node
// The entry `npx convoy` runs: registers tsx so the TypeScript CLI runs from source, no build step.
// `npm start` runs the esbuild bundle instead (dist/convoy.mjs): smaller and faster to start.
import { register } from 'tsx/esm/api';

register();
await import('./convoy.ts');
