// What the Lambda bundles get for `@modelcontextprotocol/server/_shims` (lib/bundling/lambda-bundle.ts aliases
// it here): the SDK's Node shims less the AJV JSON Schema validator (150 KB minified). The SDK's server uses
// that validator only to check a client's answer to an elicitation, which Convoy's MCP server never asks
// for; tool arguments and results are checked with their zod schemas. Should anything ask for a validator,
// it fails loudly instead of passing unchecked data.
import process from 'node:process';

export class DefaultJsonSchemaValidator {
  getValidator() {
    throw new Error(
      'no JSON Schema validator in this bundle (lib/bundling/mcp-shims.js): Convoy validates with zod schemas',
    );
  }
}

export { process };
