import { main } from '../functions/cli/index.js';

process.exitCode = await main(process.argv.slice(2));
