/**
 * The layers `npm run lint` enforces (docs/architecture.md, "Layers"), checked by dependency-cruiser:
 *
 *   npx depcruise functions lib bin --config .dependency-cruiser.cjs --output-type err-long
 *
 * Type-only imports count like any other (`tsPreCompilationDeps`): a core module that names an
 * adapter's or Node's type depends on it just the same, and a cycle of types is still two modules that
 * cannot be understood, tested or moved one without the other.
 */

/** The only packages the core may use: the plan's parsers and its schema. Nothing with I/O. */
const CORE_LIBRARIES = ['yaml', 'js-yaml', 'jsonc-parser', 'zod'];

const NO_CYCLE_COMMENT =
  'Import cycle. Break it: move what both modules need into a third one they both import (a model, ' +
  'a port in core/ports.ts), or pass the dependency in as a parameter (a port, a callback) instead of ' +
  'importing it.';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment:
        `functions/core is the pure domain: it may import only functions/core and ${CORE_LIBRARIES.join(', ')}. ` +
        'Declare what it needs from the outside as an interface in functions/core/ports.ts, implement it ' +
        'in functions/adapters, and wire it in the composition (functions/handlers/dependencies.ts, ' +
        'functions/local). A pure helper that lives elsewhere moves into functions/core.',
      from: { path: '^functions/core/' },
      to: {
        dependencyTypesNot: ['core'],
        pathNot: ['^functions/core/', `(^|/)node_modules/(${CORE_LIBRARIES.join('|')})/`],
      },
    },
    {
      name: 'core-without-node',
      severity: 'error',
      comment:
        'functions/core runs without Node (its tsconfig has no Node types): no node: modules. Put the ' +
        'Node-specific part (files, crypto, timers, Buffer) in an adapter behind a port in ' +
        'functions/core/ports.ts (as Pause wraps timers), or use a standard API (Uint8Array, ' +
        'TextEncoder, Date).',
      from: { path: '^functions/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'adapters-not-handlers',
      severity: 'error',
      comment:
        'An adapter implements a port of the core and must not depend on the Lambda handlers that ' +
        'compose it. Move what it needs (configuration, a shared helper) into the adapter or the core, ' +
        'or have the handler pass it in.',
      from: { path: '^functions/adapters/' },
      to: { path: '^functions/handlers/' },
    },
    {
      name: 'functions-not-dashboard',
      severity: 'error',
      comment:
        'The dashboard is a browser app built on its own (dashboard/, Vite): the server side, the stack and ' +
        'the CLI must not import it. Share a shape by declaring it in functions/core and importing its type ' +
        'from the dashboard.',
      from: { path: '^(functions|lib|bin)/' },
      to: { path: '^dashboard/' },
    },
    {
      name: 'dashboard-only-core-types',
      severity: 'error',
      comment:
        'The dashboard talks to Convoy over HTTP only: it may import types of the pure core (erased by the ' +
        'bundler, so no server code ships to the browser), never its code, nor adapters, handlers or Node. ' +
        'Use `import type`, or declare the shape in dashboard/src/types.ts.',
      from: { path: '^dashboard/' },
      to: {
        path: '^(functions|lib|bin)/',
        pathNot: '^functions/core/',
      },
    },
    {
      name: 'dashboard-core-types-only',
      severity: 'error',
      comment:
        'The dashboard may import only types from functions/core (`import type`): core code in the bundle ' +
        'would pull zod and the plan parser into the browser.',
      from: { path: '^dashboard/' },
      to: { path: '^functions/core/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-cycle',
      severity: 'error',
      comment: NO_CYCLE_COMMENT,
      from: { path: '^(functions|lib|bin|dashboard)/' },
      to: { circular: true },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment:
        'dependency-cruiser cannot resolve this import, so the rules above cannot check it: fix the ' +
        'path, or install the package.',
      from: { path: '^(functions|lib|bin|dashboard)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
