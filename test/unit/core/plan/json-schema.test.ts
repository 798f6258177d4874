import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CORE_SCHEMA, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parsePlan, planJsonSchema } from '../../../../functions/core/plan/index.js';
import { MINIMAL_PLAN } from '../../../fixtures/plans.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(planJsonSchema());
const read = (text: string) => load(text, { schema: CORE_SCHEMA });

describe('planJsonSchema', () => {
  it('accepts every example plan that the validator accepts', () => {
    for (const file of readdirSync('examples').filter((name) => name.endsWith('.yaml'))) {
      // Prepare
      const text = readFileSync(`examples/${file}`, 'utf8');

      // Act
      const accepted = validate(read(text));

      // Assess
      expect(parsePlan(text, { file }).ok).toBe(true);
      expect({ file, accepted, errors: validate.errors ?? [] }).toEqual({ file, accepted: true, errors: [] });
    }
  });

  it.each([
    [
      'an unknown field',
      MINIMAL_PLAN.replace('  - id: pm', '  - id: pm\n    nmae: PM'),
      'additionalProperties',
    ],
    ['a malformed duration', MINIMAL_PLAN.replace('estimate: 2d', 'estimate: 2 days'), 'pattern'],
    ['a wrong type', MINIMAL_PLAN.replace('estimate: 2d', 'estimate: 2'), 'type'],
    ['a missing required field', MINIMAL_PLAN.replace('  timezone: America/New_York\n', ''), 'required'],
    [
      'an unknown weekday',
      MINIMAL_PLAN.replace('  start: 2026-01-05', '  start: 2026-01-05\n  workdays: [fri, fry]'),
      'enum',
    ],
  ])('rejects %s, as the validator does', (_what, text, keyword) => {
    // Act
    const accepted = validate(read(text));

    // Assess
    expect(parsePlan(text).ok).toBe(false);
    expect(accepted).toBe(false);
    expect(validate.errors?.map((error) => error.keyword)).toContain(keyword);
  });

  it('describes fields for editor hovers and marks defaults', () => {
    // Act
    const schema = planJsonSchema() as {
      properties: Record<string, { description?: string; default?: unknown }>;
    };

    // Assess
    expect(schema.properties.schedules?.description).toMatch(/standup 09:00/);
    expect(schema.properties.handoff?.default).toEqual([]);
  });
});
