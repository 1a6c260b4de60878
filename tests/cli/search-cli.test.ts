import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SearchRun } from '../../src/runner/search-run.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { runCommand } from '../helpers/cli.js';
import { FIXTURE_DATA } from '../helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-cli-'));
const runs = join(root, 'runs');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('robust-nas search / runs / export', () => {
  beforeAll(() => {
    const r = runCommand([
      'search',
      '--evaluator',
      'surrogate',
      '--population',
      '6',
      '--generations',
      '3',
      '--seed',
      '4',
      '--objectives',
      'clean,pgd@0.2',
      '--initial-seeds',
      '1',
      '--max-seeds',
      '3',
      '--surrogate-noise',
      '0.02',
      '--runs-dir',
      runs,
      '--run-id',
      'cli1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 6 + 2 * 6 candidates, plus one more seed for each survivor in generations 1 and 2.
    expect(r.stdout).toMatch(
      /generation 3 of 3 done: (\d+) evaluations \(at most 30\), front \d+, hypervolume 0\.\d{4}/,
    );
    expect(r.stdout).toMatch(/run cli1 completed/);
  });

  it('search saves the run with the objectives asked for', async () => {
    const data = await new RunCatalogue(runs).read('cli1');
    expect(data.objectives).toEqual([
      { metric: 'clean', direction: 'max' },
      { metric: 'adversarial', attack: 'pgd', eps: 0.2, direction: 'max' },
    ]);
    expect(data.config.evaluation.attacks.map((a) => [a.name, a.eps])).toEqual([['pgd', 0.2]]);
    expect(data.config.resampling).toEqual({ initialSeeds: 1, maxSeeds: 3 });
    expect(data.config.surrogateNoise).toBe(0.02);
    expect(data.evaluations.filter((e) => (e.seedIndex ?? 0) === 0)).toHaveLength(18);
    expect(data.evaluations.length).toBeGreaterThan(18);
    expect(data.evaluations.length).toBeLessThanOrEqual(30);
  });

  it('runs list / show / front print the run', async () => {
    const data = await new RunCatalogue(runs).read('cli1');
    const count = data.evaluations.length;
    const list = runCommand(['runs', 'list', '--runs-dir', runs]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`cli1\\s+completed\\s+3/3\\s+${count}/${count}\\s+nsga2\\s+surrogate`),
    );
    const show = runCommand(['runs', 'show', 'cli1', '--runs-dir', runs]);
    expect(show.stdout).toMatch(/generation 2: hypervolume 0\.\d{4}/);
    expect(show.stdout).toMatch(/surrogate scores, not accuracies/);
    expect(show.stdout).toMatch(/repeated evaluation: 1 seed\(s\) per new candidate, up to 3/);
    expect(show.stdout).toMatch(
      /noise of clean: reliability 0\.\d\d at [\d.]+ seeds|noise: not enough/,
    );
    const front = runCommand(['runs', 'front', 'cli1', '--runs-dir', runs, '--json']);
    expect(front.code).toBe(0);
    const rows = JSON.parse(front.stdout) as {
      index: number;
      hash: string;
      genotype: unknown;
      seeds: number;
      mean: number[];
      stderr: number[];
      objectives: Record<string, number>;
    }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(Object.keys(rows[0]!.objectives)).toEqual(['clean', 'pgd@0.2']);
    for (const row of rows) {
      // Every seed of the member, as stored (cached copies repeat a seed already counted).
      const seeds = data.evaluations.filter((e) => e.hash === row.hash && !e.cached);
      expect(row.seeds).toBe(seeds.length);
      expect(row.seeds).toBeGreaterThanOrEqual(1);
      expect(row.genotype).toEqual(seeds[0]!.genotype);
      expect(row.mean).toHaveLength(2);
      expect(row.stderr).toHaveLength(2);
      for (const k of [0, 1]) {
        const values = seeds.map((e) => e.objectives![k]!);
        expect(row.mean[k]).toBeCloseTo(values.reduce((s, v) => s + v, 0) / values.length, 12);
        expect(row.objectives[['clean', 'pgd@0.2'][k]!]).toBe(row.mean[k]);
        // At least the binomial error of one evaluation on the 1000 validation images.
        const p = row.mean[k]!;
        expect(row.stderr[k]).toBeGreaterThanOrEqual(Math.sqrt((p * (1 - p)) / 1000) - 1e-12);
      }
    }
    expect(rows.some((r) => r.seeds > 1)).toBe(true);
    const table = runCommand(['runs', 'front', 'cli1', '--runs-dir', runs]);
    expect(table.stdout).toMatch(/SEEDS\s+CLEAN\s+PGD@0\.2\s+HRS \(SEED 0\)\s+GENOTYPE/);
    expect(table.stdout).toMatch(/0\.\d{4} ± 0\.\d{4}/);
    expect(table.stdout).toMatch(/Genotype\(normal=\[/);
  });

  it('export writes every evaluation as CSV or JSON', async () => {
    const csv = runCommand(['export', 'cli1', '--format', 'csv', '--runs-dir', runs]);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    // One row per evaluation: per (candidate, seed).
    expect(lines).toHaveLength((await new RunCatalogue(runs).read('cli1')).evaluations.length + 1);
    expect(lines[0]).toMatch(
      /^index,generation,hash,status,cached,objective:clean,objective:pgd@0.2,/,
    );
    const out = join(root, 'run.json');
    expect(
      runCommand(['export', 'cli1', '--format', 'json', '--output', out, '--runs-dir', runs]).code,
    ).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.evaluations).toEqual(
      JSON.parse(JSON.stringify((await new RunCatalogue(runs).read('cli1')).evaluations)),
    );
    const bad = runCommand(['export', 'cli1', '--format', 'xml', '--runs-dir', runs]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /option '--format <format>' argument 'xml' is invalid\. Allowed choices are csv, json/,
    );
  });

  it('search --config reads a JSON file and reports invalid fields by name (exit 2)', () => {
    const good = join(root, 'search.json');
    writeFileSync(
      good,
      JSON.stringify({ evaluator: 'surrogate', population: 4, generations: 2, strategy: 'random' }),
    );
    const r = runCommand([
      'search',
      '--config',
      good,
      '--runs-dir',
      runs,
      '--run-id',
      'cfg',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'generation-finished')).toHaveLength(2);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ population: 'many', evaluation: { dataset: 'imagenet' } }));
    const e = runCommand(['search', '--config', bad, '--runs-dir', runs]);
    expect(e.code).toBe(2);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
    expect(e.stderr).toMatch(/population/);
    expect(e.stderr).toMatch(/evaluation\.dataset/);
    const obj = runCommand([
      'search',
      '--objectives',
      'clean,speed',
      '--evaluator',
      'surrogate',
      '--runs-dir',
      runs,
    ]);
    expect(obj.code).toBe(2);
    expect(obj.stderr).toMatch(/unknown objective 'speed'/);
  });

  it('unknown and invalid run ids give one line and exit 2; resume of a completed run is a no-op', () => {
    const unknown = runCommand(['runs', 'show', 'nope', '--runs-dir', runs]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown run: nope/);
    const traversal = runCommand(['resume', '../runs', '--runs-dir', runs]);
    expect(traversal.code).toBe(2);
    expect(traversal.stderr).toMatch(/invalid run id/);
    const done = runCommand(['resume', 'cli1', '--runs-dir', runs]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/already completed/);
  });

  it('a corrupt run is reported by name and left untouched', () => {
    const file = join(runs, 'cfg', 'run.json');
    writeFileSync(file, '{"format": "robust-nas-run", "formatVersion": 1, "id": "cfg"');
    const r = runCommand(['resume', 'cfg', '--runs-dir', runs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run cfg is corrupt/);
    expect(readFileSync(file, 'utf8')).toBe(
      '{"format": "robust-nas-run", "formatVersion": 1, "id": "cfg"',
    );
    const list = runCommand(['runs', 'list', '--runs-dir', runs]);
    expect(list.stdout).toMatch(/cfg\s+unreadable/);
  });

  it('a data folder that is named but does not hold the data set stops search and resume (exit 2)', async () => {
    const noData = '/nonexistent/robust-nas-data';
    const oneLine = (r: { code: number; stderr: string }, message: RegExp): void => {
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    };
    const badRuns = join(root, 'runs-bad-data');
    const config = join(root, 'bad-data.json');
    writeFileSync(
      config,
      JSON.stringify({ population: 2, generations: 1, evaluation: { dataDir: noData } }),
    );
    oneLine(
      runCommand(['search', '--config', config, '--runs-dir', badRuns]),
      /config file .*bad-data\.json: evaluation\.dataDir \/nonexistent\/robust-nas-data does not exist: looked for MNIST's train-images-idx3-ubyte\.gz, .* in \/nonexistent\/robust-nas-data\/mnist or \/nonexistent\/robust-nas-data$/,
    );
    // A real search with ROBUST_NAS_DATA naming nothing.
    oneLine(
      runCommand(
        ['search', '--dataset', 'fashion-mnist', '--population', '2', '--runs-dir', badRuns],
        { ROBUST_NAS_DATA: noData },
      ),
      /ROBUST_NAS_DATA \/nonexistent\/robust-nas-data does not exist: looked for Fashion-MNIST's/,
    );
    expect(existsSync(badRuns)).toBe(false);
    // A surrogate search reads no data, so ROBUST_NAS_DATA does not concern it; a named folder
    // that holds the data set is accepted.
    const data = join(root, 'fashion-copy');
    cpSync(join(FIXTURE_DATA, 'fashion-mnist'), data, { recursive: true });
    writeFileSync(
      config,
      JSON.stringify({
        evaluator: 'surrogate',
        population: 2,
        generations: 1,
        evaluation: { dataset: 'fashion-mnist', dataDir: data },
      }),
    );
    const ok = runCommand(['search', '--config', config, '--runs-dir', badRuns], {
      ROBUST_NAS_DATA: noData,
    });
    expect(ok.code, ok.stderr).toBe(0);
    // The run's data folder has gone by the time it is resumed.
    const run = await SearchRun.create(
      {
        evaluator: 'surrogate',
        population: 2,
        generations: 1,
        evaluation: { dataset: 'fashion-mnist', dataDir: data },
      },
      { storage: new FileRunStorage(badRuns), runId: 'gone' },
    );
    await run.close();
    rmSync(data, { recursive: true });
    oneLine(
      runCommand(['resume', 'gone', '--runs-dir', badRuns]),
      /^robust-nas: error: run gone: evaluation\.dataDir .*fashion-copy does not exist/,
    );
  });
});
