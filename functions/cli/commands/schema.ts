import { planJsonSchema } from '../../core/plan/index.js';
import type { Command } from '../command.js';
import { EXIT } from '../io.js';

export const schemaCommand: Command = {
  name: 'schema',
  usage: 'convoy schema > plan.schema.json',
  details: [
    'Generated from the same schema `convoy validate` uses.',
    'In VS Code with the YAML extension, add this first line to a plan:',
    '  # yaml-language-server: $schema=./plan.schema.json',
  ],
  options: {},
  async run(_args, io) {
    io.stdout(`${JSON.stringify(planJsonSchema(), null, 2)}\n`);
    return EXIT.ok;
  },
};
