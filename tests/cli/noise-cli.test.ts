import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noisePlan, summarizeNoise, type NoiseRow } from '../../src/cli/noise-command.js';
import { noiseStats } from '../../src/core/noise-stats.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { runCommand } from '../helpers/cli.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-noise-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeConfig(name: string, config: unknown): string {
  const path = join(root, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

interface Report {
  rows: { hash: string; seed: number; objectives: number[]; seconds?: number; failure?: string }[];
  objectives: {
    name: string;
    mean: number;
    withinSd: number;
    betweenSd: number;
    icc: number;
    seedsFor08: number | null;
    reliabilityAtSeeds: number;
    genotypes: number;
    values: number;
  }[];
  seeds: number[];
}

/** noiseStats of the printed rows, grouped by genotype in the order they appear. */
function statsOfRows(rows: Report['rows'], k: number) {
  const hashes = [...new Set(rows.map((r) => r.hash))];
  return noiseStats(
    hashes.map((h) => rows.filter((r) => r.hash === h).map((r) => r.objectives[k]!)),
  );
}

describe('robust-nas noise, a tiny real evaluation (3 genotypes x 2 seeds)', () => {
  const config = { seed: 7, evaluation: TINY_EVALUATION };
  let report: Report;
  let stderr: string;

  beforeAll(() => {
    const r = runCommand([
      'noise',
      '--config',
      writeConfig('tiny.json', config),
      '--genotypes',
      '3',
      '--seeds',
      '2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
    // Exactly one JSON object on stdout.
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    report = JSON.parse(r.stdout) as Report;
  });

  it('prints every evaluation: 3 genotypes, each with the same 2 seeds, with its objectives', () => {
    expect(report.rows).toHaveLength(6);
    const hashes = [...new Set(report.rows.map((r) => r.hash))];
    expect(hashes).toHaveLength(3);
    for (const h of hashes) {
      expect(report.rows.filter((r) => r.hash === h).map((r) => r.seed)).toEqual(report.seeds);
    }
    for (const row of report.rows) {
      expect(row.hash).toMatch(/^[0-9a-f]{16}$/);
      expect(row.failure).toBeUndefined();
      expect(row.objectives).toHaveLength(2); // the config's default objectives: clean, fgsm@0.1
      for (const v of row.objectives) expect(v).toBeGreaterThanOrEqual(0);
      for (const v of row.objectives) expect(v).toBeLessThanOrEqual(1);
      // Robust accuracy never exceeds clean accuracy.
      expect(row.objectives[1]!).toBeLessThanOrEqual(row.objectives[0]!);
      expect(row.seconds).toBeGreaterThan(0);
    }
    // The plan is the one noisePlan draws from the config.
    const plan = noisePlan(parseSearchConfig(config), 3, 2);
    expect(hashes).toEqual(plan.genotypes.map((g) => g.hash));
    expect(report.seeds).toEqual(plan.seeds);
    expect(stderr).toMatch(/backend/);
  });

  it('the statistics are noiseStats of the printed rows', () => {
    expect(report.objectives.map((o) => o.name)).toEqual(['clean', 'fgsm@0.1']);
    report.objectives.forEach((o, k) => {
      const s = statsOfRows(report.rows, k);
      expect(o.mean).toBeCloseTo(s.mean, 12);
      expect(o.withinSd).toBeCloseTo(s.withinSd, 12);
      expect(o.betweenSd).toBeCloseTo(s.betweenSd, 12);
      expect(o.icc).toBeCloseTo(s.icc, 12);
      expect(o.seedsFor08).toBe(s.seedsFor08);
      expect(o.genotypes).toBe(3);
      expect(o.values).toBe(6);
    });
  });

  it('the same config gives the same report (the evaluations are deterministic)', () => {
    const again = runCommand([
      'noise',
      '--config',
      join(root, 'tiny.json'),
      '--genotypes',
      '3',
      '--seeds',
      '2',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const r2 = JSON.parse(again.stdout) as Report;
    expect(r2.rows.map((r) => [r.hash, r.seed, r.objectives])).toEqual(
      report.rows.map((r) => [r.hash, r.seed, r.objectives]),
    );
  });
});

describe('robust-nas noise, text report (surrogate)', () => {
  it('prints the rows and a statistics line per objective', () => {
    const path = writeConfig('surrogate.json', { seed: 3, evaluator: 'surrogate' });
    const r = runCommand(['noise', '--config', path, '--genotypes', '4', '--seeds', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^genotype\s+seed\s+clean\s+pgd@0\.1\s+seconds$/m);
    expect(r.stdout.match(/^[0-9a-f]{16}\s+\d+\s+0\.\d{4}\s+0\.\d{4}/gm)).toHaveLength(8);
    expect(r.stdout).toMatch(/4 genotypes x 2 seeds/);
    // The surrogate ignores the seed: no within-genotype variance, ICC 1.
    expect(r.stdout).toMatch(/^clean\s+0\.\d{4}\s+0\.0000\s+0\.\d{4}\s+1\.000\s+1\.000\s+1$/m);
    expect(r.stdout).toMatch(/not accuracies/);
  });
});

describe('robust-nas noise, bad options', () => {
  it.each([
    [['noise'], /--config/],
    [['noise', '--config', '/nonexistent/noise.json'], /\/nonexistent\/noise\.json/],
    [['noise', '--config', 'BAD'], /not valid JSON/],
    [['noise', '--config', 'INVALID'], /config file .*invalid\.json.*population/],
    [['noise', '--config', 'OK', '--genotypes', '1'], /--genotypes/],
    [['noise', '--config', 'OK', '--seeds', '0'], /--seeds/],
    [['noise', '--config', 'OK', '--seeds', 'x'], /--seeds/],
    [['noise', '--config', 'OK', '--genotypes', '100', '--seeds', '50'], /at most 1000/],
    [['noise', '--config', 'OK', '--workers', '0'], /--workers/],
    [['noise', '--config', 'MNIST', '--data-dir', '/nonexistent/data'], /\/nonexistent\/data/],
  ])('%j exits 2 naming the problem', (args, message) => {
    const files: Record<string, string> = {
      BAD: writeConfig('bad.json', '{ not json'),
      INVALID: writeConfig('invalid.json', { population: -1 }),
      OK: writeConfig('ok.json', { seed: 1, evaluation: TINY_EVALUATION }),
      MNIST: writeConfig('mnist.json', { seed: 1, evaluation: { dataset: 'mnist' } }),
    };
    const r = runCommand(args.map((a) => files[a] ?? a));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('noise statistics of the rows', () => {
  it('leave failed evaluations out and say so when too few values remain', () => {
    const config = parseSearchConfig({ seed: 1, evaluation: TINY_EVALUATION });
    const rows: NoiseRow[] = [
      { hash: 'a', seed: 1, objectives: [0.5, 0.1] },
      { hash: 'a', seed: 2, objectives: [0.7, 0.2] },
      { hash: 'b', seed: 1, objectives: [0.9, 0.4] },
      { hash: 'b', seed: 2, objectives: [], failure: 'NaN loss' },
      { hash: 'c', seed: 1, objectives: [], failure: 'NaN loss' },
      { hash: 'c', seed: 2, objectives: [0.6, 0.3] },
    ];
    const [clean, adv] = summarizeNoise(config.objectives, rows, 2);
    const s = noiseStats([[0.5, 0.7], [0.9], [0.6]]);
    expect(clean!.icc).toBeCloseTo(s.icc, 12);
    expect(clean!.withinSd).toBeCloseTo(s.withinSd, 12);
    expect(clean!.values).toBe(4);
    expect(adv!.mean).toBeCloseTo((0.1 + 0.2 + 0.4 + 0.3) / 4, 12);
    const none = summarizeNoise(
      config.objectives,
      rows.map((r) =>
        r.hash === 'a' && r.seed === 2 ? { ...r, objectives: [], failure: 'x' } : r,
      ),
      2,
    );
    expect(none[0]!.icc).toBeNull();
    expect(none[0]!.note).toMatch(/2 seeds/);
  });
});
