#!/usr/bin/env node
// Builds the CLI that `npm start` and the benchmarks run: dist/convoy.mjs (from bin/convoy.ts) and the
// chunks it imports, in dist/chunks/. Packages stay external (node_modules provides them).
//
// Split into chunks so that a package is loaded when the code that needs it first runs, not at start:
// in one file, esbuild hoists every package import of the bundle to the top, even those of modules only
// a dynamic `import()` reaches, so `convoy dev` would load the MCP client and server, Slack, Octokit,
// pureimage and the local Step Functions engine (about 40 MB more resident memory) before serving its
// first request. Run by `npm run build`; the dashboard (dist/dashboard) is Vite's and left alone.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/', import.meta.url));

const result = await build({
  absWorkingDir: root,
  entryPoints: ['bin/convoy.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  splitting: true,
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  metafile: true,
  logLevel: 'warning',
});

// Chunk names carry a content hash, so each build that changes the code leaves the previous chunks
// behind. They are deleted a day later, not at once: a `convoy dev` started before this build imports
// its chunks when first needed (the first /mcp request, the first gate) and would find them gone.
const current = new Set(Object.keys(result.metafile.outputs).map((file) => resolve(root, file)));
const chunks = join(outdir, 'chunks');
const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
for (const name of readdirSync(chunks)) {
  const file = join(chunks, name);
  if (!current.has(file) && statSync(file).mtimeMs < dayAgo) rmSync(file, { force: true });
}
