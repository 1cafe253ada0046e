import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLOSE_CODES, ERROR_CODES } from '@chat/protocol';
import { fillProtocolSections, renderProtocolSections } from '../../scripts/protocol-doc.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

describe('docs/protocol.md', () => {
  const document = read('docs/protocol.md');
  const sections = renderProtocolSections();

  it('has every generated part in step with the registries, schemas and OpenAPI document (else run pnpm docs:protocol)', () => {
    expect(fillProtocolSections(document, sections)).toBe(document);
  });

  it('lists every close code and every error code of the registries', () => {
    for (const close of Object.values(CLOSE_CODES)) expect(document).toContain(`| \`${close}\` |`);
    for (const code of Object.keys(ERROR_CODES)) expect(document).toContain(`| \`${code}\` |`);
  });

  it('notices a generated row that was edited by hand, and puts it back', () => {
    const edited = document.replace('| `4503` | `chatDisabled` |', '| `4503` | `chatOff` |');
    expect(edited).not.toBe(document);
    expect(fillProtocolSections(edited, sections)).toBe(document);
  });

  it('refuses a document whose markers are missing, naming the part', () => {
    const withoutMarkers = document.replace('<!-- end of generated: close-codes -->', '');
    expect(() => fillProtocolSections(withoutMarkers, sections)).toThrow(/close-codes/);
  });
});

describe('the repository speaks of its own protocol document only', () => {
  it('links docs/protocol.md from the README', () => {
    expect(read('README.md')).toContain('](docs/protocol.md)');
  });

  it('refers to no contract file outside the repository', () => {
    const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((path) => path !== '' && !path.startsWith('tests/docs/') && existsSync(`${ROOT}${path}`) && /\.(ts|tsx|md|py|js|mjs|yml|yaml|json|sh)$/.test(path));
    const outside = tracked.filter((path) => /\.\.\/shared|CONTRACT\.md|CONTRACT §/.test(read(path)));
    expect(outside).toEqual([]);
  });
});
