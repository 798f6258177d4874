// What the Lambda bundles get for `import … from 'zod'` (lib/bundling/lambda-bundle.ts aliases it here): zod's
// own index.js, over the classic API less what zod-classic.js leaves out.
import * as z from './zod-classic.js';

export * from './zod-classic.js';
export { z, z as default };
