#!/usr/bin/env node
// Refreshes test/fixtures/jira/jira-platform-v3.openapi.json, the part of Atlassian's OpenAPI
// description of the Jira Cloud platform REST API v3 that Convoy calls, which the local JIRA of the
// tests (test/support/jira-server.ts) checks every request and answer against.
//
// Source: Atlassian publishes the whole description at
//   https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json
// Download it, then run:  node scripts/refresh-jira-spec.mjs path/to/swagger-v3.v3.json
// The script keeps the operations below (the ones Convoy's JIRA adapter and jira.js send) and every
// component schema they reach through `$ref`, and nothing else, so the fixture stays small.
import { readFileSync, writeFileSync } from 'node:fs';

/** operationId of every JIRA operation Convoy calls. Add one here when the adapter starts calling it. */
export const OPERATIONS = [
  'getIssue',
  'getTransitions',
  'doTransition',
  'getRemoteIssueLinks',
  'createOrUpdateRemoteIssueLink',
  'getComments',
  'addComment',
  'getIssueWorklog',
  'addWorklog',
  'createIssue',
];

const OUT = new URL('../test/fixtures/jira/jira-platform-v3.openapi.json', import.meta.url);

const source = process.argv[2];
if (!source) {
  console.error("usage: node scripts/refresh-jira-spec.mjs SWAGGER_V3_JSON   (Atlassian's full description)");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(source, 'utf8'));

const paths = {};
const found = new Set();
for (const [template, item] of Object.entries(spec.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (!OPERATIONS.includes(operation?.operationId)) continue;
    paths[template] ??= {};
    paths[template][method] = operation;
    found.add(operation.operationId);
  }
}
const missing = OPERATIONS.filter((id) => !found.has(id));
if (missing.length > 0) {
  console.error(`refresh-jira-spec: ${source} has no operation ${missing.join(', ')}`);
  process.exit(1);
}

// Every component schema reachable from the kept operations.
const schemas = {};
const pending = [paths];
while (pending.length > 0) {
  const node = pending.pop();
  if (Array.isArray(node)) pending.push(...node);
  else if (node && typeof node === 'object') {
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
      const name = ref.slice('#/components/schemas/'.length);
      if (!(name in schemas)) {
        schemas[name] = spec.components.schemas[name];
        pending.push(schemas[name]);
      }
    }
    pending.push(...Object.values(node));
  }
}

const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
const subset = {
  openapi: spec.openapi,
  info: {
    ...spec.info,
    description: `The operations Convoy calls, cut from Atlassian's description by scripts/refresh-jira-spec.mjs.`,
  },
  paths,
  components: { schemas: sorted },
};
writeFileSync(OUT, `${JSON.stringify(subset)}\n`);
console.log(
  `refresh-jira-spec: ${found.size} operations, ${Object.keys(sorted).length} schemas → ${OUT.pathname}`,
);
