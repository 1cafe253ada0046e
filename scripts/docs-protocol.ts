import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fillProtocolSections, renderProtocolSections } from './protocol-doc.ts';

/** `pnpm docs:protocol` rewrites the generated parts of docs/protocol.md; `--check` only says whether they are in step. */
const path = fileURLToPath(new URL('../docs/protocol.md', import.meta.url));
const current = readFileSync(path, 'utf8');
const next = fillProtocolSections(current, renderProtocolSections());
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('docs/protocol.md is out of step with the code: run pnpm docs:protocol');
    process.exit(1);
  }
  console.log('docs/protocol.md is in step with the code');
} else if (next === current) {
  console.log('docs/protocol.md: nothing to change');
} else {
  writeFileSync(path, next);
  console.log('docs/protocol.md: generated parts rewritten');
}
