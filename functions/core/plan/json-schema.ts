import * as z from 'zod';
import { planSchema } from './schema.js';

/**
 * The plan format as JSON Schema (draft 2020-12), generated from the validator's own schema so the
 * two never disagree. Editors use it for completion and inline checks; references between ids and
 * dependency cycles are checked by `convoy validate` only.
 */
export function planJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    title: 'Convoy plan',
    description: 'A multi-phase project run by parallel agents (docs/plan-format.md, version 1).',
    ...schema,
  };
}
