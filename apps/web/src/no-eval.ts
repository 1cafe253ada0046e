import { config } from 'zod';

// Imported before anything that builds a schema: zod otherwise probes `new Function` while building
// object schemas, which the page's CSP (no 'unsafe-eval') reports as a violation.
config({ jitless: true });
