import { main } from '../functions/cli/index.js';

// The CLI and convoy dev run on Node 20 here; deployed handlers run on Node 22 (lib/constructs).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await main(process.argv.slice(2));
