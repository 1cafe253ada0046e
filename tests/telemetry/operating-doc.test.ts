import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from '@jest/globals';
import { METRIC_CATALOGUE } from '@chat/telemetry';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'operating.md'), 'utf8');

describe('docs/operating.md', () => {
  it.each(Object.values(METRIC_CATALOGUE).map((spec) => [spec.name, spec] as const))('documents %s with its unit and labels', (name, spec) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(`| ${spec.unit} |`);
    for (const label of spec.labels) expect(row).toContain(`\`${label}\``);
  });
});
