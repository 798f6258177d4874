import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { type ParseError as JsonError, parse as parseJson, printParseErrorCode } from 'jsonc-parser';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { checkReferences, formatPath, type Issue, type Path } from './references.js';
import { completePlan, type Plan, planSchema } from './schema.js';
import { didYouMean } from './suggest.js';

/** One problem in a plan file, located precisely enough for an editor to jump to it. */
export interface PlanError {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** `phases[1].tasks[0].dependsOn[0]`, or empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly errors: PlanError[] };

export interface ParseOptions {
  /** Shown in errors; also chooses the syntax (`.json` → JSON, anything else → YAML). @default 'plan.yaml' */
  readonly file?: string;
  /** Overrides the syntax chosen from the file name. */
  readonly format?: 'yaml' | 'json';
}

/** `plan.yaml:42:9: phases[1].tasks[0].dependsOn[0]: unknown task "taks-2a" (did you mean "task-2a"?)` */
export function formatPlanError(error: PlanError): string {
  return `${error.file}:${error.line}:${error.column}: ${error.path ? `${error.path}: ` : ''}${error.message}`;
}

/**
 * Parses and validates a plan, reporting every problem at once. Never throws for bad input:
 * syntax errors, structural errors and broken references all come back as `PlanError`s.
 */
export function parsePlan(text: string, options: ParseOptions = {}): ParseResult {
  const file = options.file ?? 'plan.yaml';
  const format = options.format ?? (file.toLowerCase().endsWith('.json') ? 'json' : 'yaml');
  const lineCounter = new LineCounter();
  let lines: LineCounter | undefined;
  const at = (offset: number, path: string, message: string): PlanError => {
    if (!lines) {
      lines = new LineCounter();
      lines.addNewLine(0);
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    }
    const { line, col } = lines.linePos(Math.max(0, Math.min(offset, text.length)));
    return { file, line, column: col, path, message };
  };

  // The fast path reads the data only; positions are worked out when there is an error to place.
  let data: unknown;
  if (format === 'json') {
    try {
      data = JSON.parse(text);
    } catch {
      const syntax = jsonSyntaxError(text) ?? { offset: text.length, message: 'unexpected end of input' };
      return { ok: false, errors: [at(syntax.offset, '', `JSON syntax error: ${syntax.message}`)] };
    }
  } else {
    try {
      // The core schema is YAML 1.2's: 09:00 and 2026-01-05 stay strings, "on" is not a boolean.
      data = loadYaml(text, { schema: CORE_SCHEMA, filename: file });
    } catch (error) {
      if (!(error instanceof YAMLException)) throw error;
      if (/input is empty/.test(error.reason)) data = null;
      else
        return {
          ok: false,
          errors: [at(error.mark?.position ?? 0, '', `YAML syntax error: ${error.reason}`)],
        };
    }
  }
  if (data === null || data === undefined) {
    return {
      ok: false,
      errors: [at(0, '', 'the plan is empty (expected a mapping with version, project, agents and phases)')],
    };
  }

  const issues: Issue[] = [];
  const parsed = planSchema.safeParse(data);
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(...describeIssue(issue, data));
  issues.push(...checkReferences(data));
  if (issues.length === 0)
    return { ok: true, plan: completePlan(parsed.data as z.output<typeof planSchema>) };

  const locate = locator(
    parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, version: '1.2' }),
  );
  const seen = new Set<string>();
  const errors = issues
    .map((issue) =>
      at(
        locate(issue.path, issue.message.startsWith('unknown field')),
        formatPath(issue.path),
        issue.message,
      ),
    )
    .filter((error) => {
      const key = `${error.path}\u0000${error.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors };
}

/** The first JSON syntax error, strictly (no comments, no trailing commas), with its offset. */
function jsonSyntaxError(text: string): { offset: number; message: string } | undefined {
  const errors: JsonError[] = [];
  parseJson(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: true });
  const first = errors[0];
  if (!first) return undefined;
  const words = printParseErrorCode(first.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return { offset: first.offset, message: words };
}

/** Finds the offset of the node at a path, or of the closest existing ancestor when it is missing. */
function locator(document: Document) {
  return (path: Path, preferKey: boolean): number => {
    let node: unknown = document.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [depth, part] of path.entries()) {
      const last = depth === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
        if (!pair) break;
        const keyOffset = rangeStart(pair.key);
        const valueOffset = rangeStart(pair.value);
        offset = (last && preferKey) || valueOffset === undefined ? (keyOffset ?? offset) : valueOffset;
        node = pair.value;
      } else if (isSeq(node) && typeof part === 'number') {
        const item = node.items[part];
        if (item === undefined) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else break;
    }
    return offset;
  };
}

function rangeStart(node: unknown): number | undefined {
  return node && typeof node === 'object' && 'range' in node ? (node as Node).range?.[0] : undefined;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

/** Known field names of the object schema at a path, for "did you mean" on unknown fields. */
function knownFields(path: readonly PropertyKey[]): string[] {
  let schema: unknown = planSchema;
  const unwrap = (s: unknown): unknown => {
    let current = s as { def?: Record<string, unknown>; type?: string };
    for (let guard = 0; guard < 10 && current?.def; guard++) {
      const def = current.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')
        current = def.innerType as typeof current;
      else if (def.type === 'pipe') current = def.in as typeof current;
      else break;
    }
    return current;
  };
  for (const part of path) {
    const current = unwrap(schema) as { def: Record<string, unknown> };
    if (current.def.type === 'object') schema = (current.def.shape as Record<string, unknown>)[String(part)];
    else if (current.def.type === 'array') schema = current.def.element;
    else return [];
  }
  const target = unwrap(schema) as { def?: Record<string, unknown> };
  return target?.def?.type === 'object' ? Object.keys(target.def.shape as object) : [];
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): Issue[] {
  const path = issue.path as (string | number)[];
  const value = valueAt(data, path);
  // Messages the schema wrote itself start lower-case; zod's generic English ones are rewritten here.
  const custom = /^[a-z]/.test(issue.message);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const fields = knownFields(path);
      return issue.keys.map((key) => {
        const hint = didYouMean(key, fields);
        return {
          path: [...path, key],
          message: `unknown field "${key}"${hint || ` (expected one of: ${fields.join(', ')})`}`,
        };
      });
    }
    case 'invalid_type':
      if (value === undefined)
        return [{ path, message: `required field "${String(path.at(-1))}" is missing` }];
      return [
        {
          path,
          message: custom
            ? issue.message
            : `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(value)}`,
        },
      ];
    case 'invalid_value': {
      if (custom) return [{ path, message: issue.message }];
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      return [
        {
          path,
          message: `invalid value ${describeValue(value)}${hint} (expected one of: ${options.join(', ')})`,
        },
      ];
    }
    case 'too_small':
      if (custom) return [{ path, message: issue.message }];
      if (issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      if (issue.origin === 'array') return [{ path, message: `needs at least ${issue.minimum} item(s)` }];
      return [{ path, message: `must be at least ${issue.minimum}, got ${describeValue(value)}` }];
    case 'too_big':
      return [
        {
          path,
          message: custom ? issue.message : `must be at most ${issue.maximum}, got ${describeValue(value)}`,
        },
      ];
    default:
      return [{ path, message: custom ? issue.message : `invalid value ${describeValue(value)}` }];
  }
}
