import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { formatGenotype } from '../../src/core/genotype-format.js';
import { resolveGenotype } from '../../src/cli/genotype-resolve.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

const dir = mkdtempSync(join(tmpdir(), 'robust-nas-genotype-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveGenotype', () => {
  const pdarts = getPublishedGenotype('PDARTS');

  it('resolves a published name, case-insensitively', () => {
    expect(resolveGenotype('PDARTS')).toEqual(pdarts);
    expect(resolveGenotype('pc_darts_cifar')).toEqual(getPublishedGenotype('PC_DARTS_cifar'));
  });

  it('resolves a genotype string in either notation', () => {
    expect(resolveGenotype(formatGenotype(pdarts))).toEqual(pdarts);
    expect(resolveGenotype(formatGenotype(pdarts, 'json'))).toEqual(pdarts);
    expect(resolveGenotype(`PDARTS = ${formatGenotype(pdarts)}`)).toEqual(pdarts);
  });

  it('resolves a file holding a genotype (Python, JSON, or a published name)', () => {
    const py = join(dir, 'cell.py');
    writeFileSync(py, `# searched cell\nbest = ${formatGenotype(pdarts)}\n`);
    expect(resolveGenotype(py)).toEqual(pdarts);
    const json = join(dir, 'cell.json');
    writeFileSync(json, JSON.stringify(pdarts, null, 2));
    expect(resolveGenotype(json)).toEqual(pdarts);
    const name = join(dir, 'name.txt');
    writeFileSync(name, 'DARTS_V2\n');
    expect(resolveGenotype(name)).toEqual(getPublishedGenotype('DARTS_V2'));
  });

  it('names the file when its genotype is malformed', () => {
    const bad = join(dir, 'bad.py');
    writeFileSync(bad, "Genotype(normal=[('sep_conv_3x3', 0)");
    expect(() => resolveGenotype(bad)).toThrow(
      `genotype file '${bad}': genotype: expected ',' or ']' at line 1, column 37 but found end of input`,
    );
  });

  it('says what it expected for an unknown name, a missing file or a broken string', () => {
    expect(() => resolveGenotype('DARTS_V9')).toThrow(InputError);
    expect(() => resolveGenotype('DARTS_V9')).toThrow(/known names: DARTS_V1, DARTS_V2/);
    expect(() => resolveGenotype(join(dir, 'missing.py'))).toThrow(
      /is not a published name \(DARTS_V1, .*\), a genotype string or an existing file$/,
    );
    expect(() => resolveGenotype('Genotype(normal=')).toThrow(/^genotype: expected a value/);
    expect(() => resolveGenotype('')).toThrow(InputError);
  });
});
