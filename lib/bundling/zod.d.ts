// zod.js has zod's types; the few names zod-classic.js leaves out are missing only at run time.
export * from 'zod';
export { z as default } from 'zod';
