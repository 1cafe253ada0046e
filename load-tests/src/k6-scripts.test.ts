import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const K6_DIR = fileURLToPath(new URL('../k6', import.meta.url));
const scripts = readdirSync(K6_DIR).filter((name) => name.endsWith('.ts'));
const sourceOf = (name: string) => readFileSync(join(K6_DIR, name), 'utf8');

describe('the k6 scripts', () => {
  it('exist for the connection ramp, fan-out and history reads', () => {
    expect(scripts.sort()).toEqual(['connections-ramp.ts', 'fanout.ts', 'history.ts']);
  });

  it('type-check against @types/k6 alone, without Node or DOM types', () => {
    const program = ts.createProgram(
      scripts.map((name) => join(K6_DIR, name)),
      {
        strict: true,
        noEmit: true,
        noUncheckedIndexedAccess: true,
        allowImportingTsExtensions: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2022.d.ts'],
        types: ['k6'],
        typeRoots: [join(K6_DIR, '..', 'node_modules', '@types')],
        skipLibCheck: true,
      },
    );
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  });

  it('use the current k6/websockets API and none of the deprecated WebSocket modules', () => {
    for (const name of scripts) {
      const source = sourceOf(name);
      expect(source).not.toMatch(/from 'k6\/ws'|from 'k6\/experimental\/websockets'/);
      if (source.includes('new WebSocket(')) expect(source).toContain("from 'k6/websockets'");
    }
  });

  it('encode the seed targets as thresholds: p95 under 100 ms and errors under 1 %', () => {
    const common = readFileSync(join(K6_DIR, 'lib', 'common.ts'), 'utf8');
    expect(common).toContain("SEED_LATENCY_P95 = 'p(95)<100'");
    expect(common).toContain("SEED_ERROR_RATE = 'rate<0.01'");
    for (const name of scripts) {
      const thresholds = /thresholds: \{([\s\S]*?)\n {2}\}/.exec(sourceOf(name))?.[1] ?? '';
      expect(thresholds).toContain('SEED_LATENCY_P95');
      expect(thresholds).toContain('SEED_ERROR_RATE');
    }
  });

  it('measure fan-out with a send-to-delivery Trend', () => {
    expect(sourceOf('fanout.ts')).toMatch(/new Trend\('chat_send_to_delivery', true\)/);
  });
});
