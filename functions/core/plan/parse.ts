import { CORE_SCHEMA, load as loadYaml, YAMLException } from 'js-yaml';
import { type ParseError as JsonError, parse as parseJson, printParseErrorCode } from 'jsonc-parser';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type * as z from 'zod';
import { horizonOverrun } from './analysis.js';
import { LIMITS } from './lexical.js';
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

  // The shape of the document comes first: everything after it walks the data, so the walks must be
  // bounded whatever the text holds (aliases that expand exponentially, nesting a stack cannot take).
  const shape = checkShape(data, text.length);
  if (shape.depth) {
    const offset = format === 'json' ? nestingOffset(text, MAX_DEPTH) : 0;
    return { ok: false, errors: [at(offset, '', shape.depth)] };
  }
  if (shape.size) return { ok: false, errors: [at(0, '', shape.size)] };

  const issues: Issue[] = [...shape.issues];
  const parsed = planSchema.safeParse(data);
  if (!parsed.success) for (const issue of parsed.error.issues) issues.push(...describeIssue(issue, data));
  issues.push(...checkReferences(data));
  if (issues.length === 0) {
    const plan = completePlan(parsed.data as z.output<typeof planSchema>);
    const overrun = horizonIssue(plan);
    if (!overrun) return { ok: true, plan };
    issues.push(overrun);
  }

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

/** Deeper than this is refused, as js-yaml refuses it in YAML: no plan nests more than a few levels. */
const MAX_DEPTH = 100;

interface Shape {
  /** Why the document nests too deeply, if it does. */
  readonly depth?: string;
  /** Why the document is too large once its YAML aliases are expanded, if it is. */
  readonly size?: string;
  /** Strings (and keys) that are not well-formed Unicode. */
  readonly issues: Issue[];
}

/**
 * One bounded walk over the parsed document: its depth, its size with YAML aliases expanded (an
 * alias is a reference, so ten levels of nine aliases each are 9^10 values to every later check),
 * and strings holding a lone UTF-16 surrogate, which neither JSON nor DynamoDB store.
 */
function checkShape(data: unknown, textLength: number): Shape {
  const limit = 10 * textLength + 10_000;
  const issues: Issue[] = [];
  // Every container met, breadth first, with its parent and key: a path is built only for an issue.
  const containers: { value: object; parent: number; key: string | number; depth: number }[] = [];
  const pathOf = (container: number, key: string | number): Path => {
    const path: (string | number)[] = [key];
    for (let at = container; at > 0; at = (containers[at] as { parent: number }).parent)
      path.unshift((containers[at] as { key: string | number }).key);
    return path;
  };
  if (data === null || typeof data !== 'object') return { issues };
  containers.push({ value: data, parent: -1, key: '', depth: 0 });
  let visited = 1;
  for (let current = 0; current < containers.length; current++) {
    const { value, depth } = containers[current] as (typeof containers)[number];
    if (depth >= MAX_DEPTH) return { depth: `the document nests more than ${MAX_DEPTH} levels deep`, issues };
    const entries: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, i) => [i, item])
      : Object.entries(value);
    visited += entries.length;
    if (visited > limit)
      return {
        size: `the plan expands to more than ${limit} values through YAML aliases (*name); write the repeated parts out, or use fewer aliases`,
        issues,
      };
    for (const [key, item] of entries) {
      if (typeof key === 'string' && LONE_SURROGATE.test(key))
        issues.push({
          path: pathOf(current, key),
          message: 'this key holds a lone UTF-16 surrogate, which is not valid Unicode',
        });
      if (typeof item === 'string') {
        if (LONE_SURROGATE.test(item))
          issues.push({
            path: pathOf(current, key),
            message: 'contains a lone UTF-16 surrogate, which is not valid Unicode',
          });
      } else if (item !== null && typeof item === 'object')
        containers.push({ value: item, parent: current, key, depth: depth + 1 });
    }
  }
  return { issues };
}

// In a `u` regular expression a surrogate pair is one code point, so only a lone surrogate matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** The offset of the first bracket of a JSON text nested deeper than `depth` (strings skipped). */
function nestingOffset(text: string, depth: number): number {
  let level = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') {
      if (++level > depth) return i;
    } else if (char === ']' || char === '}') level--;
  }
  return 0;
}

/**
 * The schedule of a valid plan must end by `LIMITS.lastDate`: the error points at the estimate of the
 * first task to finish later (or at `project.start` when no working day is left before it).
 */
function horizonIssue(plan: Plan): Issue | undefined {
  const overrun = horizonOverrun(plan);
  if (!overrun) return undefined;
  const { start, workingDays, task } = overrun;
  if (!task)
    return {
      path: ['project', 'start'],
      message: `the first working day on or after ${plan.project.start} is ${start}, after ${LIMITS.lastDate}, the last date Convoy plans for`,
    };
  return {
    path: ['phases', task.phase, 'tasks', task.index, 'estimate'],
    message: `the schedule runs past ${LIMITS.lastDate}, the last date Convoy plans for: task "${task.id}" would finish ${task.earliestFinish} working days after ${start}, and ${workingDays} fit until then`,
  };
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
