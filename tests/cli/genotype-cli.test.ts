import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { genotypeHash } from '../../src/core/canonical.js';
import { parseGenotype } from '../../src/core/genotype-parse.js';
import { genotypeProblems } from '../../src/core/genotype-validate.js';
import { PUBLISHED_GENOTYPES, getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { runCommand } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'robust-nas-genotype-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function expectInputError(args: string[], message: RegExp): void {
  const r = runCommand(args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)[0]).toMatch(message);
}

describe('robust-nas genotype', () => {
  it('list prints every published genotype with its source', () => {
    const r = runCommand(['genotype', 'list']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(Object.keys(PUBLISHED_GENOTYPES).length);
    for (const [name, { source }] of Object.entries(PUBLISHED_GENOTYPES)) {
      expect(out.some((l) => l.startsWith(`${name} `) && l.includes(source))).toBe(true);
    }
  });

  it('show prints a genotype that parses back to the same one, in both formats', () => {
    const python = runCommand(['genotype', 'show', 'darts_v2']);
    expect(python.code).toBe(0);
    expect(python.stdout.startsWith("Genotype(normal=[('sep_conv_3x3', 0), ")).toBe(true);
    expect(parseGenotype(python.stdout)).toEqual(getPublishedGenotype('DARTS_V2'));

    const json = runCommand(['genotype', 'show', python.stdout.trim(), '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(getPublishedGenotype('DARTS_V2'));

    const file = join(dir, 'nasnet.json');
    writeFileSync(file, runCommand(['genotype', 'show', 'NASNet', '--format', 'json']).stdout);
    const back = runCommand(['genotype', 'show', file]);
    expect(back.code).toBe(0);
    expect(parseGenotype(back.stdout)).toEqual(getPublishedGenotype('NASNet'));
  });

  it('sample prints N valid genotypes, the same for the same seed', () => {
    const a = runCommand(['genotype', 'sample', '--seed', '42', '--count', '5']);
    expect(a.code).toBe(0);
    const out = lines(a.stdout);
    expect(out).toHaveLength(5);
    for (const line of out) expect(genotypeProblems(parseGenotype(line))).toEqual([]);
    expect(new Set(out.map((l) => genotypeHash(parseGenotype(l)))).size).toBe(5);
    expect(runCommand(['genotype', 'sample', '--seed', '42', '--count', '5']).stdout).toBe(
      a.stdout,
    );
    expect(runCommand(['genotype', 'sample', '--seed', '43', '--count', '5']).stdout).not.toBe(
      a.stdout,
    );
    const json = runCommand([
      'genotype',
      'sample',
      '--seed',
      '42',
      '--count',
      '5',
      '--format',
      'json',
    ]);
    expect(lines(json.stdout).map((l) => JSON.parse(l))).toEqual(out.map((l) => parseGenotype(l)));
    const five = runCommand(['genotype', 'sample', '--seed', '1', '--nodes', '5']);
    expect(parseGenotype(five.stdout).normal).toHaveLength(10);
  });

  it('mutate prints a valid genotype that differs from its parent, the same for the same seed', () => {
    const r = runCommand(['genotype', 'mutate', 'PDARTS', '--seed', '7']);
    expect(r.code).toBe(0);
    const child = parseGenotype(r.stdout);
    expect(genotypeHash(child)).not.toBe(genotypeHash(getPublishedGenotype('PDARTS')));
    expect(runCommand(['genotype', 'mutate', 'PDARTS', '--seed', '7']).stdout).toBe(r.stdout);
  });

  it('has --help on every command', () => {
    for (const cmd of [[], ['list'], ['show'], ['sample'], ['mutate']]) {
      const r = runCommand(['genotype', ...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: robust-nas genotype${cmd.length ? ` ${cmd[0]}` : ''}`);
    }
  });

  it('exits 2 with one line naming the problem on bad input', () => {
    expectInputError(
      ['genotype', 'show', 'DARTS_V3'],
      /unknown genotype name 'DARTS_V3'.*known names:/,
    );
    expectInputError(
      ['genotype', 'show', "Genotype(normal=[('sep_conv_3x3', 0)"],
      /genotype: expected ',' or '\]' at line 1, column 37 but found end of input/,
    );
    expectInputError(
      ['genotype', 'show', formatGenotypeWithTypo()],
      /normal cell, node 2 \(edge 1\): unknown op 'sep_conv_3x4' \(did you mean 'sep_conv_3x3'\?\)/,
    );
    expectInputError(['genotype', 'sample'], /required option '--seed <seed>' not specified/);
    expectInputError(
      ['genotype', 'sample', '--seed', 'x'],
      /option '--seed <seed>' argument 'x' is invalid\. Invalid input: expected a number/,
    );
    expectInputError(
      ['genotype', 'sample', '--seed', '1.5'],
      /argument '1\.5' is invalid\. Invalid input: expected int/,
    );
    expectInputError(
      ['genotype', 'sample', '--seed', '1', '--count', '0'],
      /option '--count <n>' argument '0' is invalid\. Too small: expected number to be >=1/,
    );
    expectInputError(
      ['genotype', 'sample', '--seed', '1', '--nodes', '99'],
      /option '--nodes <n>' argument '99' is invalid\. Too big: expected number to be <=32/,
    );
    expectInputError(
      ['genotype', 'show', 'PDARTS', '--format', 'yaml'],
      /argument 'yaml' is invalid/,
    );
    expectInputError(['genotype', 'mutate', 'PDARTS'], /required option '--seed <seed>'/);
    expectInputError(['genotype', 'frobnicate'], /unknown command 'frobnicate'/);
  });
});

function formatGenotypeWithTypo(): string {
  return PUBLISHED_GENOTYPES.DARTS_V2!.python.replace(
    "('sep_conv_3x3', 1), ('skip_connect', 0)",
    "('sep_conv_3x3', 1), ('sep_conv_3x4', 0)",
  );
}
